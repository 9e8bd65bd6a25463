import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionProbs, keyWeightGradient, toTorchLayout, transpose2d, type KeyShape } from '../../../src/engine/finetune/keyGradient';
import { sepEnLossAndGrad } from '../../../src/engine/finetune/lossGradients';
import { mapGradToProbs, objectMaps, type MapLayout } from '../../../src/engine/finetune/mapGradients';
import { assertGradClose, close, closeAll, finiteDiff, rng, uniform } from './helpers';

const shape: KeyShape = { heads: 2, queries: 6, headDim: 4, tokens: 5, embedDim: 3 };
const inner = shape.heads * shape.headDim;

function sampleInputs(next: () => number, s: KeyShape = shape): { q: Float64Array; e: Float64Array } {
  return { q: uniform(s.heads * s.queries * s.headDim, -1.5, 1.5, next), e: uniform(s.tokens * s.embedDim, -1.5, 1.5, next) };
}

test('attentionProbs: rows sum to 1 and equal a direct softmax of Q K^T / sqrt(d)', () => {
  const next = rng(1);
  const { q, e } = sampleInputs(next);
  const wt = uniform(shape.embedDim * inner, -1, 1, next);
  const a = attentionProbs(shape, q, e, wt);
  const { heads, queries, headDim: d, tokens, embedDim } = shape;
  for (let h = 0; h < heads; h++) for (let i = 0; i < queries; i++) {
    const logits: number[] = [];
    for (let t = 0; t < tokens; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        let k = 0;
        for (let c = 0; c < embedDim; c++) k += e[t * embedDim + c] * wt[c * inner + h * d + j];
        s += q[(h * queries + i) * d + j] * k;
      }
      logits.push(s / Math.sqrt(d));
    }
    const z = logits.reduce((acc, v) => acc + Math.exp(v), 0);
    closeAll(a.subarray((h * queries + i) * tokens, (h * queries + i + 1) * tokens), logits.map((v) => Math.exp(v) / z), 1e-14);
  }
});

for (const scale of [undefined, 0.3]) {
  test(`dL/dWt matches finite differences through the forward, batch of 2 summed (scale ${scale ?? '1/sqrt(d)'})`, () => {
    const s: KeyShape = { ...shape, scale };
    const next = rng(scale === undefined ? 2 : 3);
    const samples = [sampleInputs(next), sampleInputs(next)];
    const wt = uniform(s.embedDim * inner, -1, 1, next);
    const c = samples.map(() => uniform(s.heads * s.queries * s.tokens, -1, 1, next));
    // f = sum_b sum (c_b A_b + A_b^2), dA_b = c_b + 2 A_b.
    const f = (w: Float64Array): number => {
      let total = 0;
      samples.forEach((smp, b) => {
        const a = attentionProbs(s, smp.q, smp.e, w);
        for (let i = 0; i < a.length; i++) total += c[b][i] * a[i] + a[i] * a[i];
      });
      return total;
    };
    const g = keyWeightGradient(
      s,
      samples.map((smp, b) => {
        const a = attentionProbs(s, smp.q, smp.e, wt);
        return { q: smp.q, e: smp.e, probs: a, dProbs: a.map((v, i) => c[b][i] + 2 * v) };
      }),
    );
    assertGradClose(g, finiteDiff(f, wt));
  });
}

test('float32 probabilities from the graph give the float64 gradient to float32 accuracy', () => {
  const next = rng(9);
  const { q, e } = sampleInputs(next);
  const wt = uniform(shape.embedDim * inner, -1, 1, next);
  const a = attentionProbs(shape, q, e, wt);
  const dA = uniform(a.length, -1, 1, next);
  const g64 = keyWeightGradient(shape, [{ q, e, probs: a, dProbs: dA }]);
  const g32 = keyWeightGradient(shape, [{ q: Float32Array.from(q), e: Float32Array.from(e), probs: Float32Array.from(a), dProbs: dA }]);
  closeAll(g32, g64, 1e-5);
});

test('accumulates into a given buffer; zero dA rows contribute nothing; constant dA gives 0 (softmax is shift-invariant)', () => {
  const next = rng(4);
  const { q, e } = sampleInputs(next);
  const wt = uniform(shape.embedDim * inner, -1, 1, next);
  const a = attentionProbs(shape, q, e, wt);
  const dA = uniform(a.length, -1, 1, next);
  const once = keyWeightGradient(shape, [{ q, e, probs: a, dProbs: dA }]);
  const buf = Float64Array.from(once);
  keyWeightGradient(shape, [{ q, e, probs: a, dProbs: dA }], buf);
  closeAll(buf, once.map((v) => 2 * v), 1e-15);
  const flat = keyWeightGradient(shape, [{ q, e, probs: a, dProbs: new Float64Array(a.length).fill(0.7) }]);
  closeAll(flat, new Float64Array(flat.length), 1e-15);
  assert.throws(() => keyWeightGradient(shape, [{ q, e, probs: a, dProbs: dA.subarray(1) }]), /dProbs/);
});

test('layouts: transpose2d and toTorchLayout ([D, inner] -> [inner, D])', () => {
  const m = [1, 2, 3, 4, 5, 6]; // 2 x 3
  closeAll(transpose2d(m, 2, 3), [1, 4, 2, 5, 3, 6], 0);
  const g = uniform(shape.embedDim * inner, -1, 1, rng(8));
  const t = toTorchLayout(g, shape.embedDim, inner);
  for (let r = 0; r < inner; r++) for (let c = 0; c < shape.embedDim; c++) close(t[r * shape.embedDim + c], g[c * inner + r], 0);
});

for (const keepHeads of [true, false]) {
  test(`end to end: S&E loss -> object maps -> softmax -> W_k of each layer, against finite differences (keepHeads=${keepHeads})`, () => {
    // Two 3x3 layers with their own weights; queries and embeddings fixed (the layer-local model).
    const s: KeyShape = { heads: 2, queries: 9, headDim: 4, tokens: 5, embedDim: 3 };
    const layout: MapLayout = { height: 3, width: 3, tokens: 5, objects: [[1], [2, 3]], keepHeads };
    const next = rng(keepHeads ? 21 : 22);
    const e = uniform(s.tokens * s.embedDim, -1.5, 1.5, next);
    const layers = [0, 1].map(() => ({ q: uniform(s.heads * s.queries * s.headDim, -2, 2, next), wt: uniform(s.embedDim * 8, -1.5, 1.5, next) }));
    const loss = (wts: Float64Array[]) => {
      const probs = layers.map((l, i) => attentionProbs(s, l.q, e, wts[i]));
      const maps = objectMaps(probs.map((p) => ({ heads: s.heads, probs: p })), layout);
      return { probs, r: sepEnLossAndGrad(maps) };
    };
    const wts = layers.map((l) => l.wt);
    const { probs, r } = loss(wts);
    const dA = mapGradToProbs(r.grad, [s.heads, s.heads], layout);
    layers.forEach((l, i) => {
      const g = keyWeightGradient(s, [{ q: l.q, e, probs: probs[i], dProbs: dA[i] }]);
      const fd = finiteDiff((w) => {
        const ws = wts.slice();
        ws[i] = w;
        const o = loss(ws).r;
        // Finite differences only see the analytic piece while the argmaxes stay put.
        assert.deepEqual([o.separateAt, o.peakAt, o.weakest], [r.separateAt, r.peakAt, r.weakest], 'an argmax moved: pick another seed');
        return o.total;
      }, l.wt);
      assertGradClose(g, fd);
    });
  });
}
