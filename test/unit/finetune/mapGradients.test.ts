import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapGradToProbs, objectMaps, type MapLayout } from '../../../src/engine/finetune/mapGradients';
import { assertGradClose, closeAll, finiteDiff, rng, uniform } from './helpers';

const T = 6;
const objects = [[2], [3, 4]]; // object 1 spans two tokens

test('known values: layer mean, token mean, heads kept or pooled', () => {
  // 1x2 grid, 2 layers of 2 heads; A[l][h, q, t] = 100 l + 10 h + q + t / 10 (not normalised: linear maps do not care).
  const layout = (keepHeads: boolean): MapLayout => ({ height: 1, width: 2, tokens: T, objects, keepHeads });
  const layers = [0, 1].map((l) => {
    const probs = new Float64Array(2 * 2 * T);
    for (let h = 0; h < 2; h++) for (let q = 0; q < 2; q++) for (let t = 0; t < T; t++) probs[(h * 2 + q) * T + t] = 100 * l + 10 * h + q + t / 10;
    return { heads: 2, probs };
  });
  const kept = objectMaps(layers, layout(true));
  assert.deepEqual([kept.heads, kept.count, kept.height, kept.width], [2, 2, 1, 2]);
  // head h, object 0 (token 2): mean_l (100 l + 10 h + q + 0.2) = 50 + 10 h + q + 0.2; object 1: tokens 3, 4 -> + 0.35.
  closeAll(kept.data, [50.2, 51.2, 50.35, 51.35, 60.2, 61.2, 60.35, 61.35], 1e-12);
  const pooled = objectMaps(layers, layout(false));
  assert.equal(pooled.heads, 1);
  closeAll(pooled.data, [55.2, 56.2, 55.35, 56.35], 1e-12);
});

for (const keepHeads of [true, false]) {
  test(`dA from dM matches finite differences (keepHeads=${keepHeads})`, () => {
    const next = rng(keepHeads ? 3 : 4);
    const height = 3;
    const width = 2;
    const nq = height * width;
    // Pooled heads may differ per layer; kept heads must not.
    const heads = keepHeads ? [2, 2, 2] : [2, 3, 1];
    const layout: MapLayout = { height, width, tokens: T, objects: [[1], [3, 4], [4]], keepHeads };
    const probs = heads.map((h) => uniform(h * nq * T, 0, 1, next));
    const slots = keepHeads ? 2 : 1;
    const c = uniform(slots * 3 * nq, -1, 1, next);
    // Scalar f(M) = sum c M + sum M^2 / 2, so dM = c + M.
    const f = (layerIdx: number) => (x: Float64Array): number => {
      const layers = heads.map((h, l) => ({ heads: h, probs: l === layerIdx ? x : probs[l] }));
      const m = objectMaps(layers, layout).data;
      let s = 0;
      for (let i = 0; i < m.length; i++) s += c[i] * m[i] + 0.5 * m[i] * m[i];
      return s;
    };
    const m = objectMaps(heads.map((h, l) => ({ heads: h, probs: probs[l] })), layout).data;
    const dM = c.map((v, i) => v + m[i]);
    const dA = mapGradToProbs(dM, heads, layout);
    assert.equal(dA.length, heads.length);
    heads.forEach((_, l) => {
      assertGradClose(dA[l], finiteDiff(f(l), probs[l]));
      // Tokens outside every object get nothing.
      for (let i = 0; i < dA[l].length; i++) if (![1, 3, 4].includes(i % T)) assert.equal(dA[l][i], 0);
    });
  });
}

test('rejects bad layouts', () => {
  const base: MapLayout = { height: 1, width: 2, tokens: 3, objects: [[0], [1]], keepHeads: true };
  assert.throws(() => objectMaps([{ heads: 1, probs: new Float64Array(6) }, { heads: 2, probs: new Float64Array(12) }], base), /same number of heads/);
  assert.throws(() => objectMaps([{ heads: 1, probs: new Float64Array(5) }], base), /expected/);
  assert.throws(() => objectMaps([{ heads: 1, probs: new Float64Array(6) }], { ...base, objects: [[0], [3]] }), /outside/);
  assert.throws(() => objectMaps([{ heads: 1, probs: new Float64Array(6) }], { ...base, objects: [[0], []] }), /no tokens/);
  assert.throws(() => mapGradToProbs(new Float64Array(3), [1], base), /expected/);
});
