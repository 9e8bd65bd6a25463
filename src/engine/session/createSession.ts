// Creates onnxruntime sessions on the best execution provider that actually works.
// onnxruntime-node throws at session creation when a provider is unavailable instead of falling
// back, so each candidate is tried in turn and the reason for every skip is kept for the user.
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

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
