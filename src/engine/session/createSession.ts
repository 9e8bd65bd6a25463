// Creates onnxruntime sessions on the best execution provider that actually works.
// onnxruntime-node throws at session creation when a provider is unavailable instead of falling
// back, so each candidate is tried in turn and the reason for every skip is kept for the user.
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

export type ProviderChoice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
type ConcreteProvider = Exclude<ProviderChoice, 'auto'>;

export interface SessionHandle {
  session: ort.InferenceSession;
  provider: ConcreteProvider;
  /** Why earlier candidates were skipped, e.g. "cuda: libcudart.so.12 not found". */
  fallbacks: string[];
}

const AUTO_ORDER: readonly ConcreteProvider[] = ['cuda', 'webgpu', 'cpu'];

/**
 * One core is left free by default so the editor (extension host, workbench) stays responsive while
 * a run samples; on a 2-core laptop that halves nothing the user waits for less than a frozen UI.
 */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export async function createSession(modelPath: string, choice: ProviderChoice = 'cpu', threads = defaultThreads()): Promise<SessionHandle> {
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const fallbacks: string[] = [];
  for (const provider of candidates) {
    const softwareOnly = choice === 'auto' && provider === 'webgpu' && process.platform === 'linux' && gpuDeviceNodes().length === 0;
    if (softwareOnly) {
      fallbacks.push(`webgpu: ${NO_GPU_NODE}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
      });
      return { session, provider, fallbacks };
    } catch (error) {
      fallbacks.push(`${provider}: ${firstLine(error)}`);
    }
  }
  throw new Error(`Could not load ${modelPath} on ${candidates.join(', ')}:\n  ${fallbacks.join('\n  ')}`);
}

const NO_GPU_NODE =
  'no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): a WebGPU adapter here is a CPU emulation (Mesa lavapipe), slower than the CPU provider';

/**
 * The GPU device nodes of a Linux machine: Mesa's drivers (/dev/dri/renderD*), NVIDIA's (/dev/nvidiaN) and WSL's
 * (/dev/dxg). Without one, the only WebGPU adapter Dawn can find is lavapipe, Vulkan on the CPU (measured with
 * npm run bench:providers: 35-50 times slower than the CPU provider), so `auto` skips WebGPU there; `webgpu`
 * still runs it. onnxruntime-node does not say which adapter WebGPU took, hence the device nodes.
 */
export function gpuDeviceNodes(): string[] {
  const list = (dir: string, pattern: RegExp): string[] => {
    try {
      return readdirSync(dir).filter((name) => pattern.test(name)).map((name) => `${dir}/${name}`);
    } catch {
      return [];
    }
  };
  return [...list('/dev/dri', /^renderD\d+$/), ...list('/dev', /^(nvidia\d+|dxg)$/)];
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
