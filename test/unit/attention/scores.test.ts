import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activation, overlap, sepEnTotal } from '../../../src/engine/attention/scores';
import { GAUSSIAN_TAPS, gaussianSmooth3x3 } from '../../../src/engine/attention/smoothing';
import { maskOverlaps } from '../../../src/shared/masks';
import type { MapStack } from '../../../src/engine/attention/types';
import { close, closeAll } from './helpers';

const S = 0.2119;
const C = 0.5761;

function stack(heads: number, count: number, height: number, width: number, values: number[]): MapStack {
  return { heads, count, height, width, data: Float32Array.from(values) };
}

test('Gaussian taps are the official [0.2119, 0.5761, 0.2119] and sum to 1', () => {
  closeAll(GAUSSIAN_TAPS, [S, C, S], 5e-5);
  close(GAUSSIAN_TAPS[0] * 2 + GAUSSIAN_TAPS[1], 1, 1e-15);
});

test('smoothing uses reflect padding (3x3 centre impulse: corners get 4 s^2, not s^2)', () => {
  const out = gaussianSmooth3x3([0, 0, 0, 0, 1, 0, 0, 0, 0], 1, 3, 3);
  const corner = 4 * S * S; // row -1 mirrors row 1 and column -1 mirrors column 1
  const edge = 2 * S * C;
  closeAll(out, [corner, edge, corner, edge, C * C, edge, corner, edge, corner], 1e-4);
});

test('smoothing on 2x2: reflect makes out[0] = c x0 + 2 s x1 per axis; constants stay put', () => {
  closeAll(gaussianSmooth3x3([1, 0, 0, 0], 1, 2, 2), [C * C, 2 * S * C, 2 * S * C, 4 * S * S], 1e-4);
  closeAll(gaussianSmooth3x3(new Array(12).fill(0.3), 1, 3, 4), new Array(12).fill(0.3), 1e-7);
  assert.throws(() => gaussianSmooth3x3([1, 2], 1, 1, 2), /at least 2x2/);
});

test('overlap on 2x2: max of M1 M2 / (M1 + M2) and its per-pixel map', () => {
  const o = overlap(stack(1, 2, 2, 2, [0.5, 0.1, 0.2, 0.4, 0.5, 0.3, 0.2, 0.1]));
  // 0.25/1.0, 0.03/0.4, 0.04/0.4, 0.04/0.5
  closeAll(o.map, [0.25, 0.075, 0.1, 0.08], 1e-6);
  close(o.value, 0.25);
  assert.deepEqual(o.at, { head: 0, y: 0, x: 0 });
});

test('overlap with three objects, two heads, and a zero pixel', () => {
  const head0 = [0.5, 0.1, 0.2, 0, /**/ 0.5, 0.3, 0.2, 0, /**/ 0.1, 0.5, 0.5, 0];
  const head1 = [0.6, 0.6, 0.6, 0.6, /**/ 0.6, 0.6, 0.6, 0.6, /**/ 0.6, 0.6, 0.6, 0.6];
  const o = overlap(stack(2, 3, 2, 2, [...head0, ...head1]));
  // head 0: 0.025/1.1, 0.015/0.9, 0.02/0.9, 0 (0/0 guarded); head 1: 0.216/1.8 = 0.12
  closeAll(o.map.subarray(0, 4), [0.025 / 1.1, 0.015 / 0.9, 0.02 / 0.9, 0], 1e-6);
  close(o.value, 0.12, 1e-6);
  assert.equal(o.at.head, 1);
  assert.ok(!Number.isNaN(o.map[3]));
  assert.throws(() => overlap(stack(1, 1, 2, 2, [1, 1, 1, 1])), /at least 2/);
});

test('activation: peak of the smoothed map per object, weakest, L_en; total with the official weights', () => {
  // Object 0: 0.9 at the centre of 3x3 -> smoothed peak 0.9 c^2; object 1: constant 0.5.
  const maps = stack(1, 2, 3, 3, [0, 0, 0, 0, 0.9, 0, 0, 0, 0, ...new Array(9).fill(0.5)]);
  const a = activation(maps);
  close(a.peaks[0], 0.9 * C * C, 1e-4);
  close(a.peaks[1], 0.5, 1e-6);
  assert.equal(a.weakest, 0);
  assert.deepEqual(a.peakAt[0], { head: 0, y: 1, x: 1 });
  close(a.value, 1 - 0.9 * C * C, 1e-4);
  // L_sep = 0.9 * 0.5 / 1.4 at the centre; L = 1.0 L_sep + 0.5 L_en.
  const o = overlap(maps);
  close(o.value, 0.45 / 1.4, 1e-6);
  close(sepEnTotal(o.value, a.value), 0.45 / 1.4 + 0.5 * (1 - 0.9 * C * C), 1e-4);
  close(sepEnTotal(o.value, a.value, { separate: 2, enhance: 0 }), 0.9 / 1.4, 1e-6);
});

test('activation takes the max over heads too', () => {
  const a = activation(stack(2, 1, 2, 2, [0.1, 0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 0.7]));
  close(a.peaks[0], 0.7, 1e-6);
  assert.equal(a.peakAt[0].head, 1);
});

test('masks at 0.4 of each max: IoU and intersection over each area', () => {
  const a = [1.0, 0.5, 0.3, 0.1, 0.0, 0.45]; // cut 0.4 -> mask 1 1 0 / 0 0 1 (area 3)
  const b = [0.0, 0.2, 0.2, 0.05, 0.1, 0.1]; // cut 0.08 -> mask 0 1 1 / 0 1 1 (area 4)
  const m = maskOverlaps(stack(1, 2, 2, 3, [...a, ...b]));
  assert.deepEqual([...m.masks], [1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1]);
  assert.deepEqual(m.areas, [3, 4]);
  const p = m.pairs[0];
  assert.deepEqual([p.a, p.b, p.intersection, p.union], [0, 1, 2, 5]);
  close(p.iou, 0.4);
  close(p.ioaA, 2 / 3);
  close(p.ioaB, 0.5);
});

test('masks: an all-zero map gives an empty mask and 0 ratios, not NaN; threshold is an option', () => {
  const m = maskOverlaps(stack(1, 2, 1, 2, [0, 0, 1, 0.5]), { threshold: 0.6 });
  assert.deepEqual(m.areas, [0, 1]);
  assert.deepEqual([m.pairs[0].iou, m.pairs[0].ioaA, m.pairs[0].ioaB], [0, 0, 0]);
  assert.throws(() => maskOverlaps(stack(1, 2, 1, 2, [0, 0, 1, 0.5]), { threshold: 2 }), /threshold/);
});

