// Creates onnxruntime sessions on the best execution provider that actually works.
// onnxruntime-node throws at session creation when a provider is unavailable instead of falling
// back, so each candidate of the platform's plan (providers.ts) is tried in turn and the reason for
// every skip is kept for the user.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { currentPlatform, planProviders, type ConcreteProvider, type ProviderChoice } from './providers';

export interface SessionHandle {
  session: ort.InferenceSession;
  provider: ConcreteProvider;
  /** Why earlier candidates were skipped, e.g. "cuda: libcudart.so.12 not found". */
  fallbacks: string[];
}

/**
 * One core is left free by default so the editor (extension host, workbench) stays responsive while
 * a run samples; on a 2-core laptop that halves nothing the user waits for less than a frozen UI.
 */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export async function createSession(modelPath: string, choice: ProviderChoice = 'cpu', threads = defaultThreads()): Promise<SessionHandle> {
  const plan = planProviders(choice, currentPlatform());
  const fallbacks: string[] = [];
  for (const { provider, skip } of plan) {
    if (skip) {
      fallbacks.push(`${provider}: ${skip}`);
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
  throw new Error(`Could not load ${modelPath} on ${plan.map((p) => p.provider).join(', ')}:\n  ${fallbacks.join('\n  ')}`);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
