// Which execution providers to try, in which order, on this platform. Pure given the platform, so each
// platform's plan is unit-tested here on any machine; createSession.ts tries the plan in turn.
//
// What onnxruntime-node 1.30 ships (its README): CPU everywhere; WebGPU on Windows, macOS and Linux x64;
// DirectML on Windows; CoreML on macOS; CUDA 12 on Linux x64 when its libraries are installed.
import { readdirSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];
export type ConcreteProvider = Exclude<ProviderChoice, 'auto'>;

export function isProviderChoice(value: string): value is ProviderChoice {
  return (PROVIDER_CHOICES as readonly string[]).includes(value);
}

/** What the plan depends on: the OS, the CPU architecture, the providers built into onnxruntime-node, the GPU device nodes. */
export interface Platform {
  os: NodeJS.Platform;
  arch: string;
  builtIn: readonly string[];
  /** Linux only: /dev/dri/renderD*, /dev/nvidia*, /dev/dxg (see gpuDeviceNodes). */
  gpuDeviceNodes: readonly string[];
}

/** The providers in the order to try them; `skip` says why one is left out without trying it. */
export type ProviderPlan = { provider: ConcreteProvider; skip?: string }[];

/** `auto`'s order per OS: the platform's native GPU provider first, then WebGPU, then the CPU. */
const AUTO_ORDER: Readonly<Partial<Record<NodeJS.Platform, readonly ConcreteProvider[]>>> = {
  linux: ['cuda', 'webgpu', 'cpu'],
  win32: ['dml', 'webgpu', 'cpu'],
  darwin: ['coreml', 'webgpu', 'cpu'],
};

const NO_GPU_NODE =
  'no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): a WebGPU adapter here is a CPU emulation (Mesa lavapipe), slower than the CPU provider';

export function planProviders(choice: ProviderChoice, platform: Platform): ProviderPlan {
  const where = `${platform.os}-${platform.arch}`;
  if (choice !== 'auto') {
    if (!platform.builtIn.includes(choice)) {
      throw new Error(`The execution provider "${choice}" is not in onnxruntime-node on ${where} (it has ${platform.builtIn.join(', ')}); use auto or cpu`);
    }
    return [{ provider: choice }];
  }
  return (AUTO_ORDER[platform.os] ?? ['webgpu', 'cpu']).map((provider) => {
    if (!platform.builtIn.includes(provider)) return { provider, skip: `not in onnxruntime-node on ${where}` };
    if (provider === 'webgpu' && platform.os === 'linux' && platform.gpuDeviceNodes.length === 0) return { provider, skip: NO_GPU_NODE };
    return { provider };
  });
}

export function currentPlatform(): Platform {
  return {
    os: process.platform,
    arch: process.arch,
    builtIn: ort.listSupportedBackends().map((backend) => backend.name),
    gpuDeviceNodes: process.platform === 'linux' ? gpuDeviceNodes() : [],
  };
}

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
