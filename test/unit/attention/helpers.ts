import assert from 'node:assert/strict';
import type { LayerInfo, StepLayerProbs } from '../../../src/engine/attention/types';

export function close(actual: number, expected: number, tol = 1e-6, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual}`);
}

export function closeAll(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tol, `[${i}]`);
}

/** Builds `[heads, Nq, tokens]` from `value(head, q, token)`. */
export function probsOf(
  layer: LayerInfo,
  step: number,
  tokens: number,
  value: (head: number, q: number, token: number) => number,
  heads = layer.heads,
): StepLayerProbs {
  const nq = layer.gridH * layer.gridW;
  const probs = new Float32Array(heads * nq * tokens);
  for (let h = 0; h < heads; h++) for (let q = 0; q < nq; q++) for (let t = 0; t < tokens; t++) probs[(h * nq + q) * tokens + t] = value(h, q, t);
  return { layer: layer.name, step, timestep: 1000 - step * 100, gridH: layer.gridH, gridW: layer.gridW, heads, tokens, probs };
}
