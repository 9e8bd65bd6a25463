import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipGradNorm } from '../../../src/engine/finetune/clip';
import { closeAll } from './helpers';

test('global norm over all layers, scaled by max / (norm + 1e-6) as torch.nn.utils.clip_grad_norm_', () => {
  // torch 1.13 (float64): grads [3, 4] and [12] -> returns 13.0, grads [0.23076921301775288, 0.3076922840236705], [0.9230768520710115]
  const a = Float64Array.from([3, 4]);
  const b = Float32Array.from([12]);
  assert.equal(clipGradNorm([a, b], 1.0), 13);
  closeAll(a, [0.23076921301775288, 0.3076922840236705], 1e-15);
  closeAll(b, [0.9230768520710115], 1e-7);
});

test('below the max norm the gradients are untouched', () => {
  const a = Float64Array.from([0.3, -0.4]);
  assert.equal(clipGradNorm([a], 1.0), 0.5);
  closeAll(a, [0.3, -0.4], 0);
  assert.equal(clipGradNorm([], 1.0), 0);
});

test('a non-finite norm is returned and the gradients are left for the guard', () => {
  const a = Float64Array.from([NaN, 1]);
  assert.ok(Number.isNaN(clipGradNorm([a], 1.0)));
  assert.equal(a[1], 1);
  const b = Float64Array.from([Infinity, 1]);
  assert.equal(clipGradNorm([b], 1.0), Infinity);
  assert.equal(b[1], 1);
});
