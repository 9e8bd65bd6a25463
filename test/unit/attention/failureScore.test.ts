import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultScoreRecipes, evaluateFailure, recipeSpecs, type ModelScoreRecipes } from '../../../src/engine/attention/failureScore';
import { RecipeSeries } from '../../../src/engine/attention/recipeSeries';
import type { LayerInfo } from '../../../src/engine/attention/types';
import { close, probsOf } from './helpers';

const LAYER: LayerInfo = { name: 'mid_block.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 1 };
const RECIPES: ModelScoreRecipes = {
  failure: { layers: { grids: ['2x2'] }, heads: 'mean', steps: 'second-half', statistic: 'mean-attention', threshold: 0.3 },
  risk: { layers: { grids: ['2x2'] }, heads: 'mean', steps: '1-2', statistic: 'mean-attention', threshold: 0.25 },
  source: 'model',
};

/** Four steps; token 1 (circle) stays at 0.5, token 2 (square) fades 0.4, 0.3, 0.2, 0.1. */
function fadingSquare(recipes: ModelScoreRecipes): RecipeSeries {
  const series = new RecipeSeries([LAYER], [[1], [2]], recipeSpecs(recipes));
  for (let step = 0; step < 4; step++) series.addStep([probsOf(LAYER, step, 3, (_h, _q, t) => (t === 1 ? 0.5 : t === 2 ? 0.4 - 0.1 * step : 0.1 + 0.1 * step))]);
  return series;
}

test('failure score per object, weakest first, with the verdict phrased against the measured threshold', () => {
  const f = evaluateFailure(fadingSquare(RECIPES), RECIPES, ['circle', 'square'], 4);
  assert.deepEqual(f.failure.objects.map((o) => o.word), ['square', 'circle']);
  close(f.failure.objects[0].score, 0.15, 1e-6, 'square: mean of steps 3-4');
  close(f.failure.objects[1].score, 0.5, 1e-6, 'circle');
  assert.deepEqual(f.failure.objects.map((o) => o.appears), [false, true]);
  assert.equal(f.failure.steps, 'steps 3–4');
  assert.equal(f.failure.verdict, 'square may be missing: mean attention 0.15; objects that appear score ≥ 0.30 on this model');
  assert.deepEqual(f.failure.series.map((s) => s.word), ['circle', 'square'], 'series in mark order');
  f.failure.series[1].values.forEach((v, i) => close(v, 0.4 - 0.1 * i, 1e-6, `square at step ${i + 1}`));
  close(f.risk.score, 0.35, 1e-6, 'risk: the weakest object over steps 1-2');
  assert.equal(f.risk.word, 'square');
  assert.equal(f.risk.atRisk, false);
  assert.equal(f.risk.verdict, "prompt not at risk: square's mean attention at steps 1–2 is 0.35; images that succeed score ≥ 0.25 on this model");
});

test('every object present, a prompt at risk, and no threshold at all', () => {
  const lenient: ModelScoreRecipes = { ...RECIPES, failure: { ...RECIPES.failure, threshold: 0.1 }, risk: { ...RECIPES.risk, threshold: 0.4 } };
  const f = evaluateFailure(fadingSquare(lenient), lenient, ['circle', 'square'], 4);
  assert.equal(f.failure.verdict, 'every object scores as present (weakest: square, mean attention 0.15); objects that appear score ≥ 0.10 on this model');
  assert.equal(f.risk.atRisk, true);
  assert.match(f.risk.verdict, /^prompt at risk: square's/);
  const unmeasured: ModelScoreRecipes = { failure: { ...RECIPES.failure, threshold: undefined }, risk: { ...RECIPES.risk, threshold: undefined }, source: 'engine' };
  const u = evaluateFailure(fadingSquare(unmeasured), unmeasured, ['circle', 'square'], 4);
  assert.equal(u.failure.objects[0].appears, undefined);
  assert.equal(u.failure.verdict, 'weakest object: square, mean attention 0.15 (no measured threshold for this model)');
  assert.equal(u.risk.atRisk, undefined);
  assert.match(u.risk.verdict, /\(no measured threshold for this model\)$/);
});

test('a risk from an S&E loss term of the whole image: no object named, at risk above the threshold', () => {
  const loss: ModelScoreRecipes = { ...RECIPES, risk: { layers: { grids: ['2x2'] }, heads: 'mean', steps: '1-2', statistic: 'enhance', threshold: 0.6 } };
  const f = evaluateFailure(fadingSquare(loss), loss, ['circle', 'square'], 4);
  // L_en = 1 - the weakest smoothed peak; on constant 2x2 maps the peak is the value: 1 - mean(0.4, 0.3) = 0.65.
  close(f.risk.score, 0.65, 1e-6);
  assert.equal(f.risk.word, undefined);
  assert.equal(f.risk.atRisk, true);
  assert.equal(f.risk.verdict, "prompt at risk: the image's S&E L_en at steps 1–2 is 0.65; images that succeed score ≤ 0.60 on this model");
  const safe = evaluateFailure(fadingSquare(loss), { ...loss, risk: { ...loss.risk, threshold: 0.7 } }, ['circle', 'square'], 4);
  assert.equal(safe.risk.atRisk, false);
});

test("a per-image statistic cannot name the object: evaluateFailure refuses it", () => {
  const bad: ModelScoreRecipes = { ...RECIPES, failure: { ...RECIPES.failure, statistic: 'loss' } };
  assert.throws(() => evaluateFailure(fadingSquare(bad), bad, ['circle', 'square'], 4), /the failure recipe needs a per-object statistic/);
});

test("the default recipes are the paper's: the grid nearest 16x16, per head, middle step; early steps for the risk; no threshold", () => {
  const sd: LayerInfo[] = [64, 32, 16, 8].map((g, i) => ({ name: `l${i}`, gridH: g, gridW: g, heads: 8 }));
  const d = defaultScoreRecipes(sd);
  assert.deepEqual(d.failure, { layers: { grids: ['16x16'] }, heads: 'max', steps: 'middle', statistic: 'activation' });
  assert.deepEqual(d.risk, { layers: { grids: ['16x16'] }, heads: 'max', steps: '1-5', statistic: 'activation' });
  assert.equal(d.source, 'engine');
  assert.deepEqual(defaultScoreRecipes([8, 4, 2, 1].map((g, i) => ({ name: `l${i}`, gridH: g, gridW: g, heads: 2 }))).failure.layers, { grids: ['8x8'] });
});
