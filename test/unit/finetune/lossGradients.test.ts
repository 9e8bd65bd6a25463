import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sepEnLossAndGrad } from '../../../src/engine/finetune/lossGradients';
import { gaussianSmooth3x3, gaussianSmooth3x3Adjoint } from '../../../src/engine/attention/smoothing';
import { activation, overlap, type ScoreMaps } from '../../../src/engine/attention/scores';
import { assertGradClose, close, closeAll, finiteDiff, rng, uniform } from './helpers';

const HEADS = 2;
const K = 3;
const H = 4;
const W = 5;

function maps(data: ArrayLike<number>, heads = HEADS, count = K, height = H, width = W): ScoreMaps {
  return { heads, count, height, width, data };
}

/** Checks that moving x by +-h leaves every argmax where it was (so finite differences see one smooth piece). */
function sameArgmaxes(x: Float64Array, h: number, weights: { separate: number; enhance: number }): void {
  const base = sepEnLossAndGrad(maps(x), weights);
  for (let i = 0; i < x.length; i++) {
    for (const s of [h, -h]) {
      const x0 = x[i];
      x[i] = x0 + s;
      const r = sepEnLossAndGrad(maps(x), weights);
      x[i] = x0;
      assert.deepEqual(r.separateAt, base.separateAt, 'separate argmax moved: pick another seed');
      assert.deepEqual(r.peakAt, base.peakAt, 'peak argmax moved: pick another seed');
      assert.equal(r.weakest, base.weakest, 'weakest object changed: pick another seed');
    }
  }
}

for (const [name, weights] of [
  ['separate alone', { separate: 1, enhance: 0 }],
  ['enhance alone', { separate: 0, enhance: 1 }],
  ['official sum 1.0 / 0.5', { separate: 1, enhance: 0.5 }],
] as const) {
  test(`dL/dM matches finite differences: ${name}`, () => {
    for (const seed of [1, 2, 3]) {
      const x = uniform(HEADS * K * H * W, 0.01, 0.4, rng(seed));
      sameArgmaxes(x, 1e-6, weights);
      const r = sepEnLossAndGrad(maps(x), weights);
      const fd = finiteDiff((m) => sepEnLossAndGrad(maps(m), weights).total, x);
      assertGradClose(r.grad, fd);
    }
  });
}

test('the Enhance gradient at an edge peak goes through reflect padding correctly', () => {
  // Make object 0 the weakest with its peak in a corner, where the reflected taps double up.
  const x = uniform(1 * 2 * 3 * 3, 0.01, 0.05, rng(7));
  x[0] = 0.3; // object 0, pixel (0, 0)
  for (let p = 0; p < 9; p++) x[9 + p] += 0.5; // object 1 strong everywhere
  const weights = { separate: 0, enhance: 1 };
  const r = sepEnLossAndGrad(maps(x, 1, 2, 3, 3), weights);
  assert.equal(r.weakest, 0);
  assert.deepEqual(r.peakAt[0], { head: 0, y: 0, x: 0 });
  const fd = finiteDiff((m) => sepEnLossAndGrad(maps(m, 1, 2, 3, 3), weights).total, x);
  assertGradClose(r.grad, fd);
});

test('values and argmaxes are the debugger scores (scores.ts) on float32 maps; total = L_sep + 0.5 L_en', () => {
  const x = Float32Array.from(uniform(HEADS * K * H * W, 0.01, 0.4, rng(11)));
  const r = sepEnLossAndGrad(maps(x));
  const stack = { heads: HEADS, count: K, height: H, width: W, data: x };
  const [o, a] = [overlap(stack), activation(stack)];
  assert.equal(r.separate, o.value);
  assert.equal(r.enhance, a.value);
  assert.equal(r.total, o.value + 0.5 * a.value);
  assert.deepEqual(r.peaks, a.peaks);
  assert.equal(r.weakest, a.weakest);
  assert.deepEqual(r.separateAt, o.at);
  assert.equal(sepEnLossAndGrad(maps(x), { separate: 2, enhance: 0 }).total, 2 * o.value);
});

test('two objects: d(M1 M2 / (M1 + M2))/dM1 = M2^2 / (M1 + M2)^2 at the argmax pixel only', () => {
  // 1 head, 2 objects, 2x2; pixel 3 has the largest ratio.
  const m1 = [0.1, 0.05, 0.2, 0.3];
  const m2 = [0.1, 0.05, 0.1, 0.6];
  const r = sepEnLossAndGrad(maps([...m1, ...m2], 1, 2, 2, 2), { separate: 1, enhance: 0 });
  close(r.separate, 0.18 / 0.9, 1e-15);
  assert.deepEqual(r.separateAt, { head: 0, y: 1, x: 1 });
  closeAll(r.grad, [0, 0, 0, 0.36 / 0.81, 0, 0, 0, 0.09 / 0.81], 1e-15);
});

test('zeros: a zero factor gets the leave-one-out product; an all-zero pixel gives 0 and no gradient', () => {
  // Pixel 0: M = (0, 0.5, 0.5) -> ratio 0 but d/dM1 = 0.25 / 1. Other pixels are all zero.
  const data = new Float64Array(3 * 4);
  data[0] = 0;
  data[4] = 0.5;
  data[8] = 0.5;
  const r = sepEnLossAndGrad(maps(data, 1, 3, 2, 2), { separate: 1, enhance: 0 });
  assert.equal(r.separate, 0);
  assert.deepEqual(r.separateAt, { head: 0, y: 0, x: 0 });
  close(r.grad[0], 0.25, 1e-15);
  close(r.grad[4], 0, 1e-15);
  const z = sepEnLossAndGrad(maps(new Float64Array(8), 1, 2, 2, 2), { separate: 1, enhance: 0 });
  assert.equal(z.separate, 0);
  assert.ok(z.grad.every((v) => v === 0));
});

test('ties: the first (head, pixel) in scan order and the lowest object index take the whole subgradient', () => {
  const r = sepEnLossAndGrad(maps(new Float64Array(2 * 2 * 4).fill(0.25), 2, 2, 2, 2));
  assert.deepEqual(r.separateAt, { head: 0, y: 0, x: 0 });
  assert.equal(r.weakest, 0);
  assert.deepEqual(r.peakAt[0], { head: 0, y: 0, x: 0 });
  // Only head 0 carries gradient: object 0 from both terms, object 1 from the separate term only.
  for (let i = 8; i < 16; i++) assert.equal(r.grad[i], 0);
  assert.equal(r.grad[4 + 1], 0);
  assert.ok(r.grad[4] !== 0);
});

test('rejects bad shapes', () => {
  assert.throws(() => sepEnLossAndGrad(maps(new Float64Array(4), 1, 1, 2, 2)), /2 objects/);
  assert.throws(() => sepEnLossAndGrad(maps(new Float64Array(7), 1, 2, 2, 2)), /expected 8/);
});

test('the smoothing adjoint is the exact transpose of gaussianSmooth3x3 (reflect padding)', () => {
  for (const [h, w] of [[2, 2], [2, 3], [3, 3], [4, 5], [16, 16]]) {
    const n = h * w;
    // Column j of G is G e_j; row j of G^T is G^T e_j, so G^T e_i at j must equal (G e_j) at i.
    const cols: Float64Array[] = [];
    const rows: Float64Array[] = [];
    for (let j = 0; j < n; j++) {
      const e = new Float64Array(n);
      e[j] = 1;
      cols.push(gaussianSmooth3x3(e, 1, h, w));
      rows.push(gaussianSmooth3x3Adjoint(e, 1, h, w));
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) close(rows[i][j], cols[j][i], 1e-15, `${h}x${w} G^T[${j},${i}]`);
  }
  // Several planes at once: <G x, y> = <x, G^T y>.
  const next = rng(5);
  const x = uniform(3 * 4 * 6, -1, 1, next);
  const y = uniform(3 * 4 * 6, -1, 1, next);
  const gx = gaussianSmooth3x3(x, 3, 4, 6);
  const gty = gaussianSmooth3x3Adjoint(y, 3, 4, 6);
  let a = 0;
  let b = 0;
  for (let i = 0; i < x.length; i++) {
    a += gx[i] * y[i];
    b += x[i] * gty[i];
  }
  close(a, b, 1e-13);
  assert.throws(() => gaussianSmooth3x3Adjoint([1, 2], 1, 1, 2), /at least 2x2/);
});
