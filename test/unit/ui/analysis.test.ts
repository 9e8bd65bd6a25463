import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedFilter, filterFrom, headOptions, layerOptions, layerValue, maskAreas, overlapMatrix, sameFilter } from '../../../src/shared/analysis';
import { describeFilter, selectionOf } from '../../../src/run/jobLogic';

const scores = {
  overlap: 0.2,
  activations: [
    { word: 'circle', value: 0.3 },
    { word: 'square', value: 0.4 },
    { word: 'star', value: 0.5 },
  ],
  weakest: 'circle',
  enhanceLoss: 0.7,
  totalLoss: 0.55,
  pairs: [
    { a: 'circle', b: 'square', iou: 0.25, ioaA: 0.5, ioaB: 0.4 },
    { a: 'circle', b: 'star', iou: 0, ioaA: 0, ioaB: 0 },
    { a: 'square', b: 'star', iou: 0.1, ioaA: 0.2, ioaB: 0.15 },
  ],
};

const layers = [
  { name: 'down_blocks.0.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 2 },
  { name: 'mid_block.attentions.0.transformer_blocks.0.attn2', gridH: 8, gridW: 8, heads: 4 },
  { name: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 2 },
];

describe('attention analysis', () => {
  test('overlap matrix: IoU above the diagonal, intersection over the row object\'s area below, area on it', () => {
    const masks = Uint8Array.from([1, 1, 0, 0, /* square */ 0, 1, 1, 1, /* star */ 0, 0, 0, 1]);
    const { words, cells } = overlapMatrix(scores, maskAreas(masks, 3, 4));
    assert.deepEqual(words, ['circle', 'square', 'star']);
    assert.deepEqual(cells[0][1], { kind: 'iou', value: 0.25, label: 'circle × square: IoU 0.25' });
    assert.equal(cells[1][0].kind, 'ioa');
    assert.equal(cells[1][0].value, 0.4, 'square row: intersection over square\'s area (ioaB)');
    assert.equal(cells[2][1].value, 0.15, 'star row against square: the pair is (square, star), star is b');
    assert.equal(cells[1][2].value, 0.1);
    assert.deepEqual(cells.map((row, i) => row[i].value), [0.5, 0.75, 0.25]);
    assert.match(cells[1][1].label, /square: mask area 75%/);
  });

  test('layer dropdown: all, by grid, each layer; heads follow the chosen layers', () => {
    const options = layerOptions(layers);
    assert.deepEqual(options.map((o) => o.value), ['', 'all', 'grid:16x16', 'grid:8x8', ...layers.map((l) => `layer:${l.name}`)]);
    assert.equal(options[2].label, '16x16 (2 layers)');
    assert.equal(options[4].label, 'down_blocks.0.attentions.0 · 16x16');
    assert.equal(headOptions(layers, {}).length, 1 + 4);
    assert.equal(headOptions(layers, { grid: '16x16' }).length, 1 + 2);
    assert.equal(headOptions(layers, { layer: layers[1].name }).length, 1 + 4);
  });

  test('filters from the controls: all steps is no step filter; steps are 0-based inside', () => {
    assert.deepEqual(filterFrom('', '', 1, 8, 8), {});
    assert.deepEqual(filterFrom('grid:8x8', '3', 2, 5, 8), { grid: '8x8', head: 3, steps: { from: 1, to: 4 } });
    assert.deepEqual(filterFrom(`layer:${layers[0].name}`, '', 6, 2, 8), { layer: layers[0].name, steps: { from: 5, to: 5 } }, 'to before from: one step');
    assert.equal(layerValue({ grid: '8x8' }), 'grid:8x8');
    assert.deepEqual(filterFrom('all', '', 1, 8, 8), { allLayers: true });
    assert.equal(layerValue({ allLayers: true }), 'all');
    assert.ok(sameFilter({ head: 1 }, { head: 1 }));
    assert.ok(!sameFilter({ head: 1 }, { head: 1, steps: { from: 0, to: 1 } }));
  });

  test('the engine selection and the label of a filter', () => {
    assert.deepEqual(selectionOf({ grid: '16x16', head: 0, steps: { from: 2, to: 3 } }), { grids: ['16x16'], heads: [0], steps: { from: 2, to: 3 } });
    assert.deepEqual(selectionOf({}), {});
    assert.deepEqual(selectionOf({ allLayers: true }, layers), { grids: ['16x16', '8x8'] }, 'all layers names every grid');
    assert.equal(describeFilter({}), 'default layers, all heads, all steps');
    assert.equal(describeFilter({ head: 2, steps: { from: 0, to: 0 } }), 'default layers, head 2, step 1');
  });

  test('a filter from the webview is type-checked', () => {
    assert.deepEqual(checkedFilter({ allLayers: true }), { allLayers: true });
    assert.equal(checkedFilter({ allLayers: 'yes' }), undefined);
    assert.deepEqual(checkedFilter({ layer: 'x', head: 1, steps: { from: 0, to: 2 } }), { layer: 'x', head: 1, steps: { from: 0, to: 2 } });
    assert.equal(checkedFilter({ head: -1 }), undefined);
    assert.equal(checkedFilter({ head: 1.5 }), undefined);
    assert.equal(checkedFilter({ steps: { from: 0 } }), undefined);
    assert.equal(checkedFilter({ layer: 3 }), undefined);
    assert.equal(checkedFilter(null), undefined);
  });
});
