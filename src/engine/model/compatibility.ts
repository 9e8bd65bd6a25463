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
  await record('text encoder', async () => {
    const session = await ort.InferenceSession.create(found.textEncoderPath);
    try {
      for (const name of ['input_ids']) {
        if (!session.inputNames.includes(name)) throw new Error(`no input "${name}" (inputs: ${session.inputNames.join(', ')}); export with optimum-cli export onnx`);
      }
      if (!session.outputNames.includes('last_hidden_state')) {
        throw new Error(`no output "last_hidden_state" (outputs: ${session.outputNames.join(', ')})`);
      }
      return 'input_ids → last_hidden_state';
    } finally {
      await session.release();
    }
  });
  await record('UNet cross-attention', async () => {
    const instrumented = await instrumentUnet(found.unetPath, { perHead: true });
    const heads = [...new Set(instrumented.layers.map((l) => `${l.heads}x${l.headDim}`))].join(', ');
    return `${instrumented.layers.length} cross-attention layers found and instrumented (heads x head dim: ${heads})`;
  });
  return { ok: checks.every((c) => c.ok), folder, checks };
}
