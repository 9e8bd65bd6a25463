// "Will Prompt Lens work with this export?" — every part checked in turn, each with what was found
// and what to do instead, so Add Model can say more than "failed to load".
import * as ort from 'onnxruntime-node';
import { instrumentUnet } from '../onnx/instrument';
import { readSchedulerConfig } from '../scheduler';
import { ClipTokenizer } from '../tokenizer';
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

export async function checkCompatibility(root: string): Promise<CompatibilityReport> {
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
  await record('tokenizer', async () => {
    const tokenizer = await ClipTokenizer.fromFolder(found.tokenizerDir);
    return `CLIP BPE, ${tokenizer.vocabSize} entries, ${tokenizer.maxLength} tokens`;
  });
  await record('scheduler', async () => {
    const config = await readSchedulerConfig(found.schedulerConfigPath);
    return `${config.betaSchedule} betas, ${config.predictionType} prediction, ${config.numTrainTimesteps} training steps (sampled with DDIM)`;
  });
  let textWidth: number | undefined;
  await record('text encoder', async () =>
    withSession(found.textEncoderPath, (session) => {
      requireNames(session, ['input_ids'], ['last_hidden_state']);
      textWidth = staticDim(session.outputMetadata, 'last_hidden_state', 2);
      return `input_ids → last_hidden_state${textWidth ? ` (${textWidth} wide)` : ''}`;
    }),
  );
  let unetChannels: number | undefined;
  await record('UNet inputs', async () =>
    withSession(found.unetPath, (session) => {
      requireNames(session, ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample']);
      unetChannels = staticDim(session.inputMetadata, 'sample', 1) ?? staticDim(session.outputMetadata, 'out_sample', 1);
      const crossWidth = staticDim(session.inputMetadata, 'encoder_hidden_states', 2);
      if (crossWidth && textWidth && crossWidth !== textWidth) {
        throw new Error(`the UNet's cross-attention takes ${crossWidth}-wide text states but the text encoder gives ${textWidth}: they come from different models`);
      }
      return `sample, timestep, encoder_hidden_states → out_sample${unetChannels ? ` (${unetChannels} channels)` : ''}`;
    }),
  );
  await record('VAE decoder', async () => {
    if (!found.vaeDecoderPath) {
      // A latent UNet's output is no picture: without the decoder a run would show its latents.
      if (unetChannels !== undefined && unetChannels !== 3) {
        throw new Error(`the UNet works on ${unetChannels}-channel latents but vae_decoder/model.onnx is missing: export the VAE decoder too (optimum-cli exports it)`);
      }
      return 'none: the UNet samples pixels';
    }
    return withSession(found.vaeDecoderPath, (session) => {
      requireNames(session, ['latent_sample'], ['sample']);
      return 'latent_sample → sample';
    });
  });
  await record('UNet cross-attention', async () => {
    const instrumented = await instrumentUnet(found.unetPath, { perHead: true });
    const heads = [...new Set(instrumented.layers.map((l) => `${l.heads}x${l.headDim}`))].join(', ');
    return `${instrumented.layers.length} cross-attention layers found and instrumented (heads x head dim: ${heads})`;
  });
  return { ok: checks.every((c) => c.ok), folder, checks };
}

async function withSession<T>(file: string, use: (session: ort.InferenceSession) => T): Promise<T> {
  const session = await ort.InferenceSession.create(file);
  try {
    return use(session);
  } finally {
    await session.release();
  }
}

/** The inputs and outputs the engine feeds and reads, by the names optimum-cli gives them. */
function requireNames(session: ort.InferenceSession, inputs: string[], outputs: string[]): void {
  for (const name of inputs) {
    if (!session.inputNames.includes(name)) throw new Error(`no input "${name}" (inputs: ${session.inputNames.join(', ')}); export with optimum-cli export onnx`);
  }
  for (const name of outputs) {
    if (!session.outputNames.includes(name)) throw new Error(`no output "${name}" (outputs: ${session.outputNames.join(', ')}); export with optimum-cli export onnx`);
  }
}

/** A dimension the graph fixes (not a named, dynamic one). */
function staticDim(metadata: readonly ort.InferenceSession.ValueMetadata[], name: string, axis: number): number | undefined {
  const meta = metadata.find((m) => m.name === name);
  const dim = meta?.isTensor ? meta.shape[axis] : undefined;
  return typeof dim === 'number' ? dim : undefined;
}
