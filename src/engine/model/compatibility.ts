// "Will Prompt Lens work with this export?" — every part checked in turn, each with what was found
// and what to do instead, so Add Model can say more than "failed to load".
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { CacheLocation } from '../onnx/cache';
import { instrumentUnet } from '../onnx/instrument';
import type { ModelProto } from '../onnx/proto';
import { graphSignature, readOnnxModel, type GraphPort, type GraphSignature } from '../onnx/signature';
import { readSchedulerConfig } from '../scheduler';
import { ClipTokenizer } from '../tokenizer';
import { externalDataOutsideFolder, tokenEmbeddingRows } from './graphChecks';
import { describeModelDefaults, MODEL_DEFAULTS_FILE, readModelDefaults } from './modelDefaults';
import { openModelFolder, type ModelFolder } from './modelFolder';

export interface CompatibilityCheck {
  part: string;
  ok: boolean;
  detail: string;
}

export interface CompatibilityReport {
  ok: boolean;
  folder?: ModelFolder;
  checks: CompatibilityCheck[];
}

/** `cache`: where the instrumented copy goes when the folder is not writable, as for a run (default: the user's cache folder). */
export async function checkCompatibility(root: string, cache?: CacheLocation): Promise<CompatibilityReport> {
  const checks: CompatibilityCheck[] = [];
  const record = async (part: string, run: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ part, ok: true, detail: await run() });
      return true;
    } catch (error) {
      checks.push({ part, ok: false, detail: error instanceof Error ? error.message : String(error) });
      return false;
    }
  };
  let folder: ModelFolder | undefined;
  await record('folder layout', async () => {
    folder = await openModelFolder(root);
    return `diffusers ONNX layout${folder.vaeDecoderPath ? ' with a VAE decoder (latent model)' : ' without a VAE decoder (pixel-space model)'}`;
  });
  if (!folder) return { ok: false, checks };
  const found = folder;
  await record('recommended settings', async () => {
    const described = describeModelDefaults(await readModelDefaults(found.root));
    return described ? `${MODEL_DEFAULTS_FILE}: ${described}` : `none (a ${MODEL_DEFAULTS_FILE} beside model_index.json can recommend them): the engine's defaults apply`;
  });
  let tokenizer: ClipTokenizer | undefined;
  await record('tokenizer', async () => {
    tokenizer = await ClipTokenizer.fromFolder(found.tokenizerDir, found.textSequenceLength);
    return `CLIP BPE, ${tokenizer.vocabSize} entries, ${tokenizer.maxLength} tokens`;
  });
  await record('scheduler', async () => {
    const config = await readSchedulerConfig(found.schedulerConfigPath);
    return `${config.betaSchedule} betas, ${config.predictionType} prediction, ${config.numTrainTimesteps} training steps (sampled with DDIM)`;
  });
  let textWidth: number | undefined;
  await record('text encoder', async () => {
    const model = await readOnnxModel(found.textEncoderPath);
    const graph = graphSignature(model);
    requirePorts(graph, ['input_ids'], ['last_hidden_state']);
    requireLocalWeights(model, found.textEncoderPath);
    textWidth = fixedDim(graph.outputs, 'last_hidden_state', 2);
    const rows = tokenEmbeddingRows(model);
    if (rows !== undefined && tokenizer && tokenizer.largestId >= rows) {
      throw new Error(
        `the tokenizer's ids go up to ${tokenizer.largestId} but the text encoder embeds only ${rows} tokens (ids 0-${rows - 1}): ` +
          'the tokenizer belongs to another model; use the tokenizer exported with this text encoder',
      );
    }
    const sequence = fixedDim(graph.inputs, 'input_ids', 1);
    if (sequence !== undefined && tokenizer && tokenizer.maxLength !== sequence) {
      throw new Error(`the text encoder takes ${sequence} tokens but the tokenizer makes ${tokenizer.maxLength}: set "model_max_length": ${sequence} in tokenizer/tokenizer_config.json`);
    }
    return `input_ids → last_hidden_state${textWidth ? ` (${textWidth} wide)` : ''}${rows !== undefined ? `, ${rows} token embeddings` : ''}`;
  });
  let unetChannels: number | undefined;
  await record('UNet inputs', async () => {
    const model = await readOnnxModel(found.unetPath);
    const graph = graphSignature(model);
    requirePorts(graph, ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample']);
    requireLocalWeights(model, found.unetPath);
    // Exports name the channel axis ("num_channels"); diffusers' config beside the graph says how many.
    unetChannels = fixedDim(graph.inputs, 'sample', 1) ?? fixedDim(graph.outputs, 'out_sample', 1) ?? (await configuredChannels(found.root));
    const crossWidth = fixedDim(graph.inputs, 'encoder_hidden_states', 2);
    if (crossWidth && textWidth && crossWidth !== textWidth) {
      throw new Error(`the UNet's cross-attention takes ${crossWidth}-wide text states but the text encoder gives ${textWidth}: they come from different models`);
    }
    return `sample, timestep, encoder_hidden_states → out_sample${unetChannels ? ` (${unetChannels} channels)` : ''}`;
  });
  await record('VAE decoder', async () => {
    if (!found.vaeDecoderPath) {
      // A latent UNet's output is no picture: without the decoder a run would show its latents.
      if (unetChannels !== undefined && unetChannels !== 3) {
        throw new Error(`the UNet works on ${unetChannels}-channel latents but vae_decoder/model.onnx is missing: export the VAE decoder too (optimum-cli exports it)`);
      }
      return 'none: the UNet samples pixels';
    }
    const model = await readOnnxModel(found.vaeDecoderPath);
    requirePorts(graphSignature(model), ['latent_sample'], ['sample']);
    requireLocalWeights(model, found.vaeDecoderPath);
    return 'latent_sample → sample';
  });
  await record('UNet cross-attention', async () => {
    const instrumented = await instrumentUnet(found.unetPath, { perHead: true, ...(cache ? { cache } : {}) });
    const heads = [...new Set(instrumented.layers.map((l) => `${l.heads}x${l.headDim}`))].join(', ');
    return `${instrumented.layers.length} cross-attention layers found and instrumented (heads x head dim: ${heads})`;
  });
  return { ok: checks.every((c) => c.ok), folder, checks };
}

/** The inputs and outputs the engine feeds and reads, by the names optimum-cli gives them. */
function requirePorts(graph: GraphSignature, inputs: string[], outputs: string[]): void {
  for (const [wanted, ports, what] of [[inputs, graph.inputs, 'input'], [outputs, graph.outputs, 'output']] as const) {
    const names = ports.map((p) => p.name);
    for (const name of wanted) {
      if (!names.includes(name)) throw new Error(`no ${what} "${name}" (${what}s: ${names.join(', ')}); export with optimum-cli export onnx`);
    }
  }
}

function requireLocalWeights(model: ModelProto, graphFile: string): void {
  const problem = externalDataOutsideFolder(model, graphFile);
  if (problem) throw new Error(problem);
}

/** A dimension the graph fixes (not a named, dynamic one). */
function fixedDim(ports: GraphPort[], name: string, axis: number): number | undefined {
  const dim = ports.find((p) => p.name === name)?.dims[axis];
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/** `in_channels` of diffusers' `unet/config.json`, when the export has one. */
async function configuredChannels(root: string): Promise<number | undefined> {
  try {
    const config = JSON.parse(await readFile(path.join(root, 'unet', 'config.json'), 'utf8')) as { in_channels?: unknown };
    return typeof config.in_channels === 'number' ? config.in_channels : undefined;
  } catch {
    return undefined;
  }
}
