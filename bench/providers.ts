// Execution-provider benchmark: the same UNet steps on a GPU provider (WebGPU, or CUDA where its
// libraries exist) and on CPU in one run, for every model folder given, smallest first.
//   npm run bench:providers [-- MODEL_DIR ...] [--provider webgpu|cuda|auto] [--steps N]
// Default models: the embedded tiny-shapes and the SD 1.x-shaped test fixture. Prints per model the
// ms per UNet call (batch 2, as with guidance) on each provider, the speedup, and which provider
// actually ran (a provider that fails to start falls back and says why), then the largest model
// that ran on the GPU. On an NVIDIA machine WebGPU runs over Vulkan: it needs libvulkan1.
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import type { ProviderChoice } from '../src/engine/session/createSession';

const ROOT = path.resolve(__dirname, '..', '..');

function parse(argv: string[]): { models: string[]; provider: ProviderChoice; steps: number } {
  const models: string[] = [];
  let provider: ProviderChoice = 'webgpu';
  let steps = 20;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--provider') provider = argv[++i] as ProviderChoice;
    else if (argv[i] === '--steps') steps = Number(argv[++i]);
    else models.push(path.resolve(argv[i]));
  }
  return {
    models: models.length > 0 ? models : [path.join(ROOT, 'models', 'tiny-shapes'), path.join(ROOT, 'test', 'fixtures', 'sd-tiny')],
    provider,
    steps,
  };
}

async function timeRun(pipeline: Pipeline, steps: number): Promise<number> {
  const request = { prompt: 'a red circle and a blue square', negativePrompt: '', seed: 1, steps: 2, guidance: 4, eta: 0 };
  await pipeline.generate(request); // warm-up: kernels compiled, buffers allocated
  const out = await pipeline.generate({ ...request, steps });
  return out.timings.unetMs / steps;
}

async function main(): Promise<void> {
  const { models, provider, steps } = parse(process.argv.slice(2));
  console.log(`onnxruntime-node ${ort.env.versions.node}, node ${process.version}, ${steps} DDIM steps per timing, batch 2`);
  let largest: string | undefined;
  for (const dir of models) {
    const folder = await openModelFolder(dir);
    const cpu = await Pipeline.load(folder, { provider: 'cpu' });
    const cpuMs = await timeRun(cpu, steps);
    let line = `${folder.id}: cpu ${cpuMs.toFixed(2)} ms/step`;
    try {
      const gpu = await Pipeline.load(folder, { provider });
      const gpuMs = await timeRun(gpu, steps);
      line += `; ${gpu.provider.name} ${gpuMs.toFixed(2)} ms/step; speedup ${(cpuMs / gpuMs).toFixed(2)}x`;
      if (gpu.provider.fallbacks.length > 0) line += `\n  fell back: ${gpu.provider.fallbacks.join('; ')}`;
      if (gpu.provider.name !== 'cpu') largest = folder.id;
    } catch (error) {
      line += `; ${provider} failed: ${error instanceof Error ? error.message.split('\n').slice(0, 2).join(' ').trim() : String(error)}`;
    }
    console.log(line);
  }
  console.log(`largest model that ran on a GPU provider: ${largest ?? 'none (no GPU provider started)'}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
