import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bicubicResize, cubicTaps } from '../../../src/engine/attention/bicubic';
import { adaptiveAvgPool, resizeMaps } from '../../../src/engine/attention/pool';
import { closeAll } from './helpers';

// 0,1,2,3 resized to 8 with a = -0.75, align_corners=False, border clamp.
// E.g. out[0]: src = -0.25, floor -1, t = 0.75; taps at 0,0,0,1 (clamped) with
// weights far(1.75) = -0.03515625, near(0.75) = 0.26171875, near(0.25) = 0.87890625,
// far(1.25) = -0.10546875, so out[0] = 3 * 0 + 1 * -0.10546875.
// out[3]: src = 1.25, taps 0..3 with weights -0.10546875, 0.87890625, 0.26171875, -0.03515625
// -> 0.87890625 + 0.5234375 - 0.10546875 = 1.296875 (a = -0.75 does not reproduce ramps exactly).
const RAMP8 = [-0.10546875, 0.19140625, 0.66796875, 1.296875, 1.703125, 2.33203125, 2.80859375, 3.10546875];

test('tap weights sum to 1 and match the cubic convolution kernel', () => {
  const { index, weight } = cubicTaps(4, 8);
  for (let o = 0; o < 8; o++) {
    const s = weight[o * 4] + weight[o * 4 + 1] + weight[o * 4 + 2] + weight[o * 4 + 3];
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  closeAll(weight.subarray(0, 4), [-0.03515625, 0.26171875, 0.87890625, -0.10546875], 1e-12);
  assert.deepEqual([...index.subarray(0, 4)], [0, 0, 0, 1]);
});

test('a constant stays constant', () => {
  const out = bicubicResize(new Float32Array(9).fill(0.25), 1, 3, 3, 7, 5);
  closeAll(out, new Array(35).fill(0.25), 1e-7);
});

test('a 1-D ramp matches the hand-computed values', () => {
  const out = bicubicResize([0, 1, 2, 3, 0, 1, 2, 3], 1, 2, 4, 3, 8);
  for (let y = 0; y < 3; y++) closeAll(out.subarray(y * 8, y * 8 + 8), RAMP8, 1e-12);
});

test('separable: x + 10 y resizes to ramp(x) + 10 ramp(y), per plane', () => {
  const src: number[] = [];
  for (const scale of [1, 2]) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) src.push(scale * (x + 10 * y));
  const out = bicubicResize(src, 2, 4, 4, 8, 8);
  for (let p = 0; p < 2; p++) {
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const want = (p + 1) * (RAMP8[x] + 10 * RAMP8[y]);
        assert.ok(Math.abs(out[p * 64 + y * 8 + x] - want) < 1e-9);
      }
    }
  }
});

test('same size is the identity', () => {
  const src = [1, 5, -2, 7, 0.5, 3];
  closeAll(bicubicResize(src, 1, 2, 3, 2, 3), src, 0);
});

test('adaptive average pool: 4x4 -> 2x2 block means, 3 -> 2 overlapping cells', () => {
  const src = Array.from({ length: 16 }, (_, i) => i);
  closeAll(adaptiveAvgPool(src, 1, 4, 4, 2, 2), [2.5, 4.5, 10.5, 12.5]);
  // Cells cover [0,2) and [1,3): means of (0,1) and (1,2).
  closeAll(adaptiveAvgPool([0, 1, 2], 1, 1, 3, 1, 2), [0.5, 1.5]);
  closeAll(resizeMaps(src, 1, 4, 4, 4, 4), src, 0);
});

test('same size is an exact copy (the taps are 0, 1, 0, 0), as PyTorch copies', () => {
  const src = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i) * 1e-3);
  const out = bicubicResize(src, 2, 3, 4, 3, 4);
  assert.deepEqual([...out], [...src].map(Number));
  assert.deepEqual([...cubicTaps(5, 5).weight.subarray(8, 12)], [0, 1, 0, 0]);
});
