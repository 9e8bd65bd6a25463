// Execution-provider benchmark: the same UNet steps on a GPU provider (WebGPU, or CUDA where its
// libraries exist) and on CPU in one run, for every model folder given, smallest UNet first.
//   npm run bench:providers [-- MODEL_DIR ...] [--provider webgpu|cuda|auto] [--steps N]
// Default models: the embedded tiny-shapes and the SD 1.x-shaped test fixture. Prints per model the
// ms per UNet call (batch 2, as with guidance) on each provider, the speedup, and which provider
// actually ran (a provider that fails to start falls back and says why), then the largest model
// that ran on the GPU. On WebGPU it times the run twice: with the constant inputs (text embeddings,
// key weights) kept on the device, as the engine runs, and fed from host memory at every step.
// On an NVIDIA machine WebGPU runs over Vulkan: it needs libvulkan1 and the driver's Vulkan ICD.
// onnxruntime-node does not say which adapter WebGPU took; the Vulkan devices are listed when
// vulkaninfo (vulkan-tools) is installed. A 'llvmpipe' device is Mesa's lavapipe: WebGPU on the CPU,
// whose figures only show that the path works.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFolder, type ModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline, type PipelineOptions } from '../src/engine/pipeline/pipeline';
import type { ProviderChoice } from '../src/engine/session/providers';

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

/** Bytes of the UNet and its external data, without the engine's instrumented copies. */
async function unetBytes(folder: ModelFolder): Promise<number> {
  const dir = path.dirname(folder.unetPath);
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    if (name.includes('.prompt-lens-')) continue;
    const stat = await fs.stat(path.join(dir, name));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

function vulkanDevices(): string {
  try {
    const summary = execFileSync('vulkaninfo', ['--summary'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    const names = [...summary.matchAll(/deviceName\s*=\s*(.+)/g)].map((m) => m[1].trim());
    return names.length > 0 ? names.join('; ') : 'none';
  } catch {
    return 'unknown (no vulkaninfo)';
  }
}

async function timeRun(pipeline: Pipeline, steps: number): Promise<number> {
  const request = { prompt: 'a red circle and a blue square', negativePrompt: '', seed: 1, steps: 2, guidance: 4, eta: 0 };
  await pipeline.generate(request); // warm-up: kernels compiled, buffers allocated
  const out = await pipeline.generate({ ...request, steps });
  return out.timings.unetMs / steps;
}

function firstLines(error: unknown): string {
  return error instanceof Error ? error.message.split('\n').slice(0, 2).join(' ').trim() : String(error);
}

async function main(): Promise<void> {
  const { models, provider, steps } = parse(process.argv.slice(2));
  console.log(`onnxruntime-node ${ort.env.versions.node}, node ${process.version}, ${steps} DDIM steps per timing, batch 2`);
  console.log(`Vulkan devices: ${vulkanDevices()}`);
  const folders = await Promise.all(models.map(async (dir) => {
    const folder = await openModelFolder(dir);
    return { folder, bytes: await unetBytes(folder) };
  }));
  folders.sort((a, b) => a.bytes - b.bytes);
  let largest: string | undefined;
  for (const { folder, bytes } of folders) {
    // One pipeline loaded at a time, each released after its timing: with the CPU one still loaded, loading
    // the second pipeline of the SD 1.5-sized export ran out of this machine's 24 GB.
    const cpu = await Pipeline.load(folder, { provider: 'cpu' });
    const cpuMs = await timeRun(cpu, steps);
    await cpu.release();
    let line = `${folder.id} (UNet ${(bytes / 2 ** 20).toFixed(1)} MiB): cpu ${cpuMs.toFixed(2)} ms/step`;
    try {
      const load = (options: PipelineOptions): Promise<Pipeline> => Pipeline.load(folder, { provider, ...options });
      const gpu = await load({});
      const gpuMs = await timeRun(gpu, steps);
      await gpu.release();
      line += `; ${gpu.provider.name} ${gpuMs.toFixed(2)} ms/step; speedup ${(cpuMs / gpuMs).toFixed(2)}x`;
      line += `\n  constant inputs: ${gpu.deviceInputs.reason}`;
      if (gpu.deviceInputs.resident) {
        const host = await load({ deviceInputs: false });
        const hostMs = await timeRun(host, steps);
        await host.release();
        line += `; fed from host memory every step instead: ${hostMs.toFixed(2)} ms/step`;
      }
      if (gpu.provider.fallbacks.length > 0) line += `\n  fell back: ${gpu.provider.fallbacks.join('; ')}`;
      if (gpu.provider.name !== 'cpu') largest = folder.id;
    } catch (error) {
      line += `; ${provider} failed: ${firstLines(error)}`;
    }
    console.log(line);
  }
  console.log(`largest model that ran on a GPU provider: ${largest ?? 'none (no GPU provider started)'}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
