import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionTimeline } from '../../../src/engine/attention/timeline';
import { resolveSelection } from '../../../src/engine/attention/selection';
import type { LayerInfo } from '../../../src/engine/attention/types';
import { closeAll, probsOf } from './helpers';

const FINE: LayerInfo = { name: 'fine', gridH: 2, gridW: 2, heads: 2 };
const COARSE: LayerInfo = { name: 'coarse', gridH: 1, gridW: 1, heads: 2 };

test('one coarse map per step and token: head mean, area mean to the coarsest grid, layer mean', () => {
  const tl = new AttentionTimeline({ tokens: 3, selection: resolveSelection([FINE, COARSE]), tokenIndices: [2, 1] });
  assert.deepEqual([tl.gridH, tl.gridW], [1, 1]);
  for (const step of [1, 0]) {
    // fine: value q + head + token (+ step); coarse: 10 * token.
    tl.add(probsOf(FINE, step, 3, (h, q, t) => q + h + t + step));
    tl.add(probsOf(COARSE, step, 3, (_h, _q, t) => 10 * t));
  }
  const frames = tl.frames();
  assert.deepEqual(frames.map((f) => [f.step, f.timestep, f.layers]), [[0, 1000, 2], [1, 900, 2]]);
  // Step 0, token 2: fine mean over q (1.5) and heads (0.5) + 2 = 4; coarse 20 -> 12.
  // Token 1: fine 3, coarse 10 -> 6.5.
  closeAll(frames[0].maps.data, [12, 6.5]);
  closeAll(frames[1].maps.data, [12.5, 7]);
  assert.equal(frames[0].maps.tokens, 2);
});

test('a finer preview grid upsamples coarse layers; unknown frame and token are errors', () => {
  const tl = new AttentionTimeline({ tokens: 1, selection: resolveSelection([FINE, COARSE], { steps: 0 }), grid: 2 });
  tl.add(probsOf(FINE, 0, 1, (_h, q) => q));
  tl.add(probsOf(COARSE, 0, 1, () => 2));
  assert.equal(tl.add(probsOf(COARSE, 1, 1, () => 2)), false);
  closeAll(tl.frame(0).maps.data, [1, 1.5, 2, 2.5]);
  assert.throws(() => tl.frame(3), /no frame for step 3/);
  assert.throws(() => new AttentionTimeline({ tokens: 1, selection: resolveSelection([FINE]), tokenIndices: [1] }), /out of range/);
});
