import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionKeep, keyPull } from '../../../src/engine/finetune/regularisers';
import { attentionProbs, keyWeightGradient, type KeyShape } from '../../../src/engine/finetune/keyGradient';
import { assertGradClose, close, closeAll, finiteDiff, rng, uniform } from './helpers';

test('keyPull: lambda ||W - W0||^2 and 2 lambda (W - W0), added into a given buffer', () => {
  const r = keyPull([1, 2, 3], [1, 0, 4], 0.5);
  close(r.value, 0.5 * (4 + 1), 1e-15);
  closeAll(r.grad, [0, 2, -1], 1e-15);
  const buf = Float64Array.from([1, 1, 1]);
  keyPull([1, 2, 3], [1, 0, 4], 0.5, buf);
  closeAll(buf, [1, 3, 0], 1e-15);
  const next = rng(1);
  const w = uniform(12, -1, 1, next);
  const w0 = uniform(12, -1, 1, next);
  assertGradClose(keyPull(w, w0, 0.3).grad, finiteDiff((x) => keyPull(x, w0, 0.3).value, w));
  assert.throws(() => keyPull([1], [1, 2], 1), /originals/);
});

test('attentionKeep: value and dA are weight * mean over all layers, against finite differences', () => {
  const next = rng(2);
  const a = [uniform(12, 0, 1, next), uniform(6, 0, 1, next)];
  const f = [uniform(12, 0, 1, next), uniform(6, 0, 1, next)];
  const r = attentionKeep(a, f, 0.7);
  let sq = 0;
  a.forEach((x, l) => x.forEach((v, i) => (sq += (v - f[l][i]) ** 2)));
  close(r.value, (0.7 * sq) / 18, 1e-15);
  a.forEach((x, l) => assertGradClose(r.dProbs[l], finiteDiff((y) => attentionKeep(a.map((z, k) => (k === l ? y : z)), f, 0.7).value, x)));
  assert.equal(attentionKeep(f, f, 1).value, 0);
  assert.throws(() => attentionKeep([new Float64Array(2)], [new Float64Array(3)], 1), /frozen/);
});

test('attentionKeep through keyWeightGradient matches finite differences on W_k', () => {
  const s: KeyShape = { heads: 2, queries: 6, headDim: 4, tokens: 5, embedDim: 3 };
  const next = rng(3);
  const q = uniform(2 * 6 * 4, -1.5, 1.5, next);
  const e = uniform(5 * 3, -1.5, 1.5, next);
  const w0 = uniform(3 * 8, -1, 1, next);
  const frozen = attentionProbs(s, q, e, w0);
  const w = w0.map((v) => v + 0.3 * (next() - 0.5));
  const probs = attentionProbs(s, q, e, w);
  const r = attentionKeep([probs], [frozen], 2);
  const g = keyWeightGradient(s, [{ q, e, probs, dProbs: r.dProbs[0] }]);
  assertGradClose(g, finiteDiff((x) => attentionKeep([attentionProbs(s, q, e, x)], [frozen], 2).value, w));
});
