import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRecipe, describeRecipe, isPerObject, lowerIsWorse, recipeLayers, recipeName } from '../../../src/engine/attention/scoreRecipe';
import { stepWindow } from '../../../src/shared/stepWindow';
import type { LayerInfo } from '../../../src/engine/attention/types';

const CATALOGUE: LayerInfo[] = [
  { name: 'down_blocks.0.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 2 },
  { name: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 8, gridW: 8, heads: 4 },
  { name: 'mid_block.attentions.0.transformer_blocks.0.attn2', gridH: 8, gridW: 8, heads: 4 },
  { name: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 16, gridW: 16, heads: 2 },
];

test('step windows on a 20-step run, 0-based inclusive', () => {
  assert.deepEqual(stepWindow('1-5', 20), { from: 0, to: 4 });
  assert.deepEqual(stepWindow('11', 20), { from: 10, to: 10 });
  assert.deepEqual(stepWindow('middle', 20), { from: 10, to: 10 }, "the run record's S&E step: floor(n/2)");
  assert.deepEqual(stepWindow('last', 20), { from: 19, to: 19 });
  assert.deepEqual(stepWindow('last-5', 20), { from: 15, to: 19 });
  assert.deepEqual(stepWindow('first-half', 20), { from: 0, to: 9 });
  assert.deepEqual(stepWindow('second-half', 20), { from: 10, to: 19 });
  assert.deepEqual(stepWindow('all', 20), { from: 0, to: 19 });
  assert.deepEqual(stepWindow('1-5', 3), { from: 0, to: 2 }, 'a window longer than the run is cut to it');
  assert.deepEqual(stepWindow('second-half', 1), { from: 0, to: 0 });
  assert.throws(() => stepWindow('5-1', 20), /backwards/);
  assert.throws(() => stepWindow('0', 20), /count from 1/);
  assert.throws(() => stepWindow('25', 20), /after the run's last step/);
  assert.throws(() => stepWindow('early', 20), /not a window/);
});

test('recipes select layers by grid, by name (dotted prefix) and by both', () => {
  const names = (layers: LayerInfo[]): string[] => layers.map((l) => l.name.split('.transformer')[0]);
  assert.deepEqual(names(recipeLayers(CATALOGUE, { grids: ['8x8'] })), ['down_blocks.1.attentions.0', 'mid_block.attentions.0']);
  assert.deepEqual(names(recipeLayers(CATALOGUE, { grids: [16] })), ['down_blocks.0.attentions.0', 'up_blocks.1.attentions.0']);
  assert.deepEqual(names(recipeLayers(CATALOGUE, { names: ['mid_block'] })), ['mid_block.attentions.0']);
  assert.deepEqual(names(recipeLayers(CATALOGUE, { names: ['down_blocks'], grids: ['8x8'] })), ['down_blocks.1.attentions.0']);
  assert.equal(recipeLayers(CATALOGUE, {}).length, 4, 'no filter: every layer');
  assert.throws(() => recipeLayers(CATALOGUE, { grids: ['32x32'] }), /no cross-attention layer has a 32x32 grid; grids are 16x16, 8x8/);
  assert.throws(() => recipeLayers(CATALOGUE, { names: ['up_blocks.3'] }), /no cross-attention layer is named 'up_blocks.3'/);
  assert.throws(() => recipeLayers(CATALOGUE, { names: ['mid_block'], grids: ['16x16'] }), /no layer matches 16x16 layers among layers mid_block/);
});

test('statistics: which are per object and which way is worse', () => {
  assert.deepEqual([isPerObject('activation'), isPerObject('mean-attention'), isPerObject('separate'), isPerObject('enhance'), isPerObject('loss')], [true, true, false, false, false]);
  assert.equal(lowerIsWorse('activation'), true);
  assert.equal(lowerIsWorse('loss'), false);
});

test('checkRecipe: a valid recipe, and every problem named by its key', () => {
  const ok = checkRecipe({ layers: { grids: ['8x8'] }, heads: 'mean', steps: 'second-half', statistic: 'activation', threshold: 0.3 }, 'scores.failure');
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.recipe, { layers: { grids: ['8x8'] }, heads: 'mean', steps: 'second-half', statistic: 'activation' });
  assert.equal(recipeName(ok.recipe!), 'activation/8x8/mean/second-half');
  assert.match(describeRecipe(ok.recipe!), /^activation \(smoothed peak\) of each object · 8x8 layers, averaged · heads: mean map · steps 'second-half', mean over them$/);
  const bad = checkRecipe({ layers: { grid: ['8x8'], names: [] }, heads: 'median', steps: 'late', statistic: 'peak', extra: 1 }, 'scores.risk');
  assert.deepEqual(bad.recipe, undefined);
  for (const expected of [/unknown key "scores.risk.extra"/, /unknown key "scores.risk.layers.grid"/, /"scores.risk.layers.names" must be a non-empty list/, /"scores.risk.heads" must be one of mean, max, got "median"/, /"scores.risk.steps": steps 'late' is not a window/, /"scores.risk.statistic" must be one of activation, mean-attention, separate, enhance, loss, got "peak"/]) {
    assert.ok(bad.problems.some((p) => expected.test(p)), `${expected} in ${bad.problems.join('\n')}`);
  }
  assert.match(checkRecipe({ layers: { grids: ['sixteen'] }, heads: 'max', steps: '1-5', statistic: 'loss' }, 'x').problems[0], /"x.layers.grids" has 'sixteen'; a grid looks like '16x16'/);
  assert.match(checkRecipe([], 'x').problems[0], /"x" must be an object/);
});
