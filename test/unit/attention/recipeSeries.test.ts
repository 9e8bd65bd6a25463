import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectMaps, RecipeSeries, statisticOf, windowMean } from '../../../src/engine/attention/recipeSeries';
import type { LayerInfo, MapStack } from '../../../src/engine/attention/types';
import { close, probsOf } from './helpers';

/** `[heads, K, h, w]` from `value(head, object, y, x)`. */
function stack(heads: number, count: number, h: number, w: number, value: (head: number, k: number, y: number, x: number) => number): MapStack {
  const data = new Float32Array(heads * count * h * w);
  for (let hd = 0; hd < heads; hd++) for (let k = 0; k < count; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[((hd * count + k) * h + y) * w + x] = value(hd, k, y, x);
  return { heads, count, height: h, width: w, data };
}

test('activation: the smoothed peak, per object (a flat map keeps its value; a single spike keeps the centre tap)', () => {
  const maps = stack(1, 2, 4, 4, (_, k, y, x) => (k === 0 ? 0.25 : y === 1 && x === 2 ? 1 : 0));
  const [flat, spike] = statisticOf('activation', maps);
  close(flat, 0.25, 1e-6, 'flat');
  close(spike, 0.5761 * 0.5761, 1e-4, 'spike: centre tap squared');
});

test('mean-attention: the map mean; with heads kept, the largest head', () => {
  const maps = stack(2, 1, 2, 2, (h, _, y, x) => (h === 0 ? 0.1 : [0.1, 0.2, 0.3, 0.4][y * 2 + x]));
  close(statisticOf('mean-attention', maps)[0], 0.25, 1e-7);
});

test("S&E loss terms on known maps: L_sep = max prod/sum, L_en = 1 - min a_i, L = L_sep + 0.5 L_en", () => {
  // Object 0 is 0.2 everywhere, object 1 is 0.6 everywhere: prod/sum = 0.12/0.8 = 0.15, peaks 0.2 and 0.6.
  const maps = stack(1, 2, 3, 3, (_, k) => (k === 0 ? 0.2 : 0.6));
  close(statisticOf('separate', maps)[0], 0.15, 1e-6);
  close(statisticOf('enhance', maps)[0], 0.8, 1e-6);
  close(statisticOf('loss', maps)[0], 0.15 + 0.4, 1e-6);
  assert.deepEqual(statisticOf('separate', stack(1, 1, 2, 2, () => 0.5)), [0], 'one object: L_sep says nothing and is 0');
});

test('objectMaps: each object is the mean of its token positions, per head', () => {
  const layer: LayerInfo = { name: 'l', gridH: 1, gridW: 2, heads: 2 };
  const p = probsOf(layer, 0, 4, (h, q, t) => (h + 1) * 0.1 + q * 0.01 + t * 0.001);
  const maps = objectMaps(p, [[1], [2, 3]]);
  // [heads, K, nq]
  const expected = [0.101, 0.111, 0.1025, 0.1125, 0.201, 0.211, 0.2025, 0.2125];
  expected.forEach((v, i) => close(maps[i], v, 1e-6, `[${i}]`));
});

const FINE: LayerInfo = { name: 'down_blocks.0.attentions.0.transformer_blocks.0.attn2', gridH: 4, gridW: 4, heads: 2 };
const COARSE: LayerInfo = { name: 'mid_block.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 2 };

test('RecipeSeries: layers by grid and name, heads mean or max, several grids brought to the coarsest by area mean', () => {
  // Object token 1: on the fine layer head 0 sees 0.4 in the top-left 2x2 block, head 1 sees 0.1 everywhere;
  // on the coarse layer both heads see 0.2 everywhere. Token 2 (object 1) is 0.05 everywhere.
  const fine = (step: number) => probsOf(FINE, step, 3, (h, q, t) => (t === 1 ? (h === 0 ? (q % 4 < 2 && q < 8 ? 0.4 : 0) : 0.1) : t === 2 ? 0.05 : 0.5));
  const coarse = (step: number) => probsOf(COARSE, step, 3, (_h, _q, t) => (t === 1 ? 0.2 : t === 2 ? 0.05 : 0.75));
  const specs = [
    { layers: { names: ['mid_block'] }, heads: 'max' as const, statistic: 'mean-attention' as const },
    { layers: { grids: ['4x4'] }, heads: 'max' as const, statistic: 'mean-attention' as const },
    { layers: { grids: ['4x4'] }, heads: 'mean' as const, statistic: 'mean-attention' as const },
    { layers: {}, heads: 'mean' as const, statistic: 'mean-attention' as const },
  ];
  const series = new RecipeSeries([FINE, COARSE], [[1], [2]], specs);
  series.addStep([fine(0), coarse(0)]);
  series.addStep([fine(1), coarse(1)]);
  assert.equal(series.steps, 2);
  close(series.series(specs[0])[1][0], 0.2, 1e-6, 'mid_block');
  close(series.series(specs[1])[0][0], 0.1, 1e-6, 'max over heads of the fine layer means: 0.4 * 4/16 = 0.1 and 0.1');
  close(series.series(specs[2])[0][0], 0.1, 1e-6, 'head mean: (0.1 + 0.1) / 2');
  // Every layer: fine pooled to 2x2 (its head mean is 0.25 in the top-left cell, 0.05 elsewhere), averaged with the coarse 0.2.
  close(series.series(specs[3])[0][0], (0.1 + 0.2) / 2, 1e-6, 'mean of the two layers');
  close(series.series(specs[3])[0][1], 0.05, 1e-6, 'object 1');
  assert.throws(() => new RecipeSeries([FINE, { ...COARSE, heads: 4 }], [[1]], [{ layers: {}, heads: 'max', statistic: 'activation' }]), /heads 'max' needs the same number of heads .* use heads 'mean'/);
  assert.throws(() => series.addStep([fine(2)]), /step 3 has no maps of layer 'mid_block/);
});

test('windowMean: the mean of each value over the window; a step not captured is an error', () => {
  const s = [[1, 10], [2, 20], [3, 30], [4, 40]];
  assert.deepEqual(windowMean(s, { from: 1, to: 3 }), [3, 30]);
  assert.deepEqual(windowMean(s, { from: 0, to: 0 }), [1, 10]);
  assert.throws(() => windowMean(s, { from: 3, to: 5 }), /were not all captured/);
});

test('windowMean: a step missing inside the window is an error, not skipped', () => {
  const s: number[][] = [];
  s[0] = [1];
  s[2] = [3];
  assert.throws(() => windowMean(s, { from: 0, to: 2 }), /step 2 is missing/);
});
