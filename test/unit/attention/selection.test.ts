import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrid, resolveSelection } from '../../../src/engine/attention/selection';
import type { LayerInfo } from '../../../src/engine/attention/types';

const layers: LayerInfo[] = [
  { name: 'down_blocks.0.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 4 },
  { name: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 8, gridW: 8, heads: 4 },
  { name: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 8, gridW: 8, heads: 4 },
  { name: 'up_blocks.2.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 4 },
];

test('default selects everything', () => {
  const s = resolveSelection(layers);
  assert.equal(s.layers.length, 4);
  assert.equal(s.explicitLayers, false);
  assert.equal(s.allHeads, true);
  assert.deepEqual(s.headsOf(layers[0]), [0, 1, 2, 3]);
  assert.ok(s.hasStep(0) && s.hasStep(999));
  assert.equal(s.singleStep, false);
});

test('layers by exact name and by dotted prefix, in manifest order', () => {
  const s = resolveSelection(layers, { layers: ['up_blocks.2', 'down_blocks.0.attentions.0.transformer_blocks.0.attn2'] });
  assert.deepEqual(s.layers.map((l) => l.gridH), [16, 16]);
  assert.equal(s.layers[0].name, layers[0].name);
  assert.ok(s.explicitLayers);
  assert.ok(!s.hasLayer(layers[1].name));
});

test('a prefix must end at a dot', () => {
  assert.throws(() => resolveSelection(layers, { layers: ['up_blocks.1.atten'] }), /unknown layer/);
});

test('unknown layer lists the valid ones', () => {
  assert.throws(
    () => resolveSelection(layers, { layers: ['mid_block'] }),
    (e: Error) => /unknown layer 'mid_block'/.test(e.message) && layers.every((l) => e.message.includes(l.name)),
  );
});

test('grids by side or HxW, intersected with layers', () => {
  assert.deepEqual(parseGrid('16x8'), [16, 8]);
  assert.deepEqual(parseGrid(8), [8, 8]);
  assert.equal(resolveSelection(layers, { grids: ['8x8'] }).layers.length, 2);
  assert.equal(resolveSelection(layers, { grids: [16], layers: ['up_blocks'] }).layers.length, 1);
  assert.throws(() => resolveSelection(layers, { grids: [32] }), /no cross-attention layer has a 32x32 grid; available grids: 16x16, 8x8/);
  assert.throws(() => resolveSelection(layers, { grids: [16], layers: ['up_blocks.1'] }), /no layer matches both/);
  assert.throws(() => parseGrid('big'), /grid must look like/);
});

test('heads are checked against every selected layer', () => {
  const s = resolveSelection(layers, { heads: [3, 1] });
  assert.deepEqual(s.headsOf(layers[2]), [3, 1]);
  assert.equal(s.allHeads, false);
  assert.throws(() => resolveSelection(layers, { heads: [4] }), /head 4 is out of range for layer 'down_blocks.0/);
  assert.throws(() => resolveSelection(layers, { heads: [] }), /empty/);
  assert.throws(() => resolveSelection(layers, { heads: [1, 1] }), /duplicates/);
  assert.throws(() => resolveSelection(layers, { heads: [-1] }), /non-negative integer/);
});

test('steps: one, a range, all; out of range when the count is known', () => {
  const one = resolveSelection(layers, { steps: 7 });
  assert.ok(one.singleStep && one.hasStep(7) && !one.hasStep(6));
  const range = resolveSelection(layers, { steps: { from: 2, to: 4 } }, 10);
  assert.ok(range.hasStep(2) && range.hasStep(4) && !range.hasStep(5) && !range.hasStep(1));
  assert.deepEqual(resolveSelection(layers, { steps: { from: 3 } }, 10).steps, { from: 3, to: 9 });
  assert.throws(() => resolveSelection(layers, { steps: 10 }, 10), /step 10 is out of range \(steps 0..9\)/);
  assert.throws(() => resolveSelection(layers, { steps: { from: 5, to: 2 } }), /after/);
  assert.throws(() => resolveSelection(layers, { steps: 1.5 }), /non-negative integer/);
});

test('empty lists and an empty model are errors', () => {
  assert.throws(() => resolveSelection(layers, { layers: [] }), /empty/);
  assert.throws(() => resolveSelection([]), /no cross-attention layers/);
});
