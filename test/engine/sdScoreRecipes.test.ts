/**
 * Score recipes on Stable Diffusion exports (the sd-tiny and sd2-tiny fixtures, SD 1.x and 2.x structure): layers
 * are chosen by grid and by name as on the embedded model, and the default failure recipe (the paper's
 * 16x16-equivalent layers, per head, middle step) reads exactly the activations the run's S&E scores report.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { objectMaps, RecipeSeries, statisticOf } from '../../src/engine/attention/recipeSeries';
import { recipeLayers, type ScoreRecipe } from '../../src/engine/attention/scoreRecipe';
import type { LayerInfo } from '../../src/engine/attention/types';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline, type AttentionCapture } from '../../src/engine/pipeline/pipeline';
import { AttentionAnalysis } from '../../src/engine/run/attentionAnalysis';
import { copyFixture } from './sdExport';

const ROOT = join(__dirname, '../../..');
const PROMPT = 'a photo of a cat and a dog';
const OBJECTS = [{ word: 'cat', start: 13, end: 16 }, { word: 'dog', start: 23, end: 26 }];
const STEPS = 3;

for (const fixture of ['sd-tiny', 'sd2-tiny']) {
  test(`${fixture}: recipes select layers by grid and name; the default failure score is the S&E activation of the run`, async () => {
    const pipeline = await Pipeline.load(await openModelFolder(copyFixture(join(ROOT, 'test/fixtures', fixture), `pl-${fixture}-recipes-`)));
    const tokenized = pipeline.tokenizer.encode(PROMPT);
    const objectTokens = OBJECTS.map((o) => pipeline.tokenizer.tokenIndicesForSpan(tokenized, o.start, o.end));
    const size = { width: 128, height: 128 }; // latent 16x16: layers at 16x16, 8x8, 4x4 and 2x2
    const [, sampleH, sampleW] = pipeline.sampleShape(size);
    const analysis = new AttentionAnalysis({ prompt: PROMPT, objects: OBJECTS, tokenized, steps: STEPS, sampleH, sampleW });
    const recipes: ScoreRecipe[] = [
      { layers: { grids: ['16x16'] }, heads: 'max', steps: 'all', statistic: 'activation' },
      { layers: { names: ['mid_block'] }, heads: 'mean', steps: 'all', statistic: 'activation' },
      { layers: { names: ['up_blocks.1'], grids: ['4x4'] }, heads: 'mean', steps: 'all', statistic: 'mean-attention' },
    ];
    let series: RecipeSeries | undefined;
    let catalogue: LayerInfo[] = [];
    const kept: AttentionCapture[][] = [];
    await pipeline.generate(
      { prompt: PROMPT, negativePrompt: '', seed: 3, steps: STEPS, guidance: 7.5, eta: 0, size },
      {
        onAttention: (captures) => {
          analysis.onAttention(captures);
          catalogue = captures.map((c) => ({ name: c.layer, gridH: c.gridH, gridW: c.gridW, heads: c.heads }));
          series ??= new RecipeSeries(catalogue, objectTokens, recipes);
          series.addStep(captures);
          kept.push(captures.map((c) => ({ ...c, probs: c.probs.slice() })));
        },
      },
    );
    const short = (layers: LayerInfo[]): string[] => layers.map((l) => l.name.replace('.transformer_blocks.0.attn2', ''));
    assert.deepEqual(short(recipeLayers(catalogue, recipes[0].layers)), ['down_blocks.0.attentions.0', 'down_blocks.0.attentions.1', 'up_blocks.3.attentions.0', 'up_blocks.3.attentions.1', 'up_blocks.3.attentions.2']);
    assert.deepEqual(short(recipeLayers(catalogue, recipes[1].layers)), ['mid_block.attentions.0']);
    assert.deepEqual(short(recipeLayers(catalogue, recipes[2].layers)), ['up_blocks.1.attentions.0', 'up_blocks.1.attentions.1', 'up_blocks.1.attentions.2']);
    const done = series as RecipeSeries;
    // The mid block by name: its objects' head-mean maps at each step, scored by hand.
    for (let step = 0; step < STEPS; step++) {
      const mid = kept[step].find((c) => c.layer.startsWith('mid_block')) as AttentionCapture;
      const maps = objectMaps(mid, objectTokens);
      const hw = mid.gridH * mid.gridW;
      const mean = new Float32Array(OBJECTS.length * hw);
      for (let h = 0; h < mid.heads; h++) for (let i = 0; i < mean.length; i++) mean[i] += maps[h * mean.length + i] / mid.heads;
      const expected = statisticOf('activation', { heads: 1, count: OBJECTS.length, height: mid.gridH, width: mid.gridW, data: mean });
      done.series(recipes[1])[step].forEach((v, k) => assert.ok(Math.abs(v - expected[k]) < 1e-6, `step ${step} object ${k}: ${v} vs ${expected[k]}`));
    }
    const out = analysis.finish();
    const failure = out.failure;
    assert.ok(failure && out.scores);
    assert.equal(failure.source, 'engine');
    assert.deepEqual(failure.failure.recipe.layers, { grids: ['16x16'] });
    assert.equal(failure.failure.steps, 'step 2');
    for (const a of out.scores.activations) {
      const score = failure.failure.objects.find((o) => o.word === a.word)?.score ?? NaN;
      assert.ok(Math.abs(score - a.value) < 1e-6, `${a.word}: failure score ${score} = S&E activation ${a.value}`);
    }
    assert.deepEqual(failure.failure.series.map((s) => s.values.length), [STEPS, STEPS]);
  });
}
