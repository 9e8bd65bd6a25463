// The finetune's gradient through the real embedded ONNX model (the UNet's gradient model, every key layer)
// against central differences of the loss, with and without L_norm; the one-run step (the loss in the graph)
// against the two-run one (the JavaScript loss fed as seeds).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { defaultFinetuneOptions, SepEnTrainer, singleObjectPrompts, type LossLayers, type PreparedPrompt, type TrainingPrompt } from '../../src/engine/finetune/trainer';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline } from '../../src/engine/pipeline/pipeline';
import { Rng } from '../../src/engine/random';
import { checkDirectionalDerivative } from './directionalCheck';

const MODEL = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-shapes');
const PROMPT = { text: 'a red circle and a blue square', objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 24, end: 30 }] };

describe('finetune gradient through the ONNX model', () => {
  let pipeline: Pipeline;
  let trainer: SepEnTrainer;
  let prepared: PreparedPrompt[];
  let lossLayers: LossLayers;

  before(async () => {
    pipeline = await Pipeline.load(await openModelFolder(MODEL));
    trainer = await SepEnTrainer.create(pipeline);
    prepared = await trainer.prepare([PROMPT], true);
    lossLayers = await trainer.lossLayers(prepared[0]);
  });

  test('the loss reads the 16x16 layers of the embedded model', () => {
    assert.equal(lossLayers.gridH, 16);
    assert.deepEqual(
      lossLayers.layers.map((l) => l.name),
      ['down_blocks.0.attentions.0', 'up_blocks.1.attentions.0', 'up_blocks.1.attentions.1'].map((b) => `${b}.transformer_blocks.0.attn2`),
    );
  });

  test('single-object prompts for L_norm keep each object with its words', () => {
    assert.deepEqual(singleObjectPrompts(PROMPT), ['a red circle', 'a blue square']);
    const bare = { text: 'red circle, blue square with green triangle', objects: [{ word: 'circle', start: 4, end: 10 }, { word: 'square', start: 17, end: 23 }, { word: 'triangle', start: 35, end: 43 }] };
    assert.deepEqual(singleObjectPrompts(bare), ['red circle', 'blue square', 'green triangle']);
  });

  test('every key layer gets a gradient, and its directional derivative matches central differences', async () => {
    const batch = trainer.sampleBatch(prepared, new Rng(5), 0, { batch: 2, x0Scale: defaultFinetuneOptions.x0Scale });
    const { grads } = await trainer.evaluate(batch, trainer.baseKeySet(), lossLayers, defaultFinetuneOptions);
    // All 7 keys reach the 16x16 maps of up_blocks.1, the last ones the loss reads.
    assert.deepEqual([...grads.keys()].sort(), pipeline.instrumented.layers.map((l) => l.name).sort());
    await checkDirectionalDerivative('tiny-shapes S&E loss', trainer, batch, lossLayers, defaultFinetuneOptions);
  });

  test('a loss narrowed to the mid_block, heads averaged: one 8x8 layer, and its gradient matches central differences', async () => {
    const mid = await trainer.lossLayers(prepared[0], 8, ['mid_block']);
    assert.deepEqual(mid.layers.map((l) => l.name), ['mid_block.attentions.0.transformer_blocks.0.attn2']);
    await assert.rejects(trainer.lossLayers(prepared[0], 16, ['mid_block']), /No cross-attention layer has a 16-wide grid and a name starting mid_block/);
    const batch = trainer.sampleBatch(prepared, new Rng(7), 0, { batch: 2, x0Scale: defaultFinetuneOptions.x0Scale });
    const options = { ...defaultFinetuneOptions, headMean: true };
    const perHead = await trainer.evaluate(batch, trainer.baseKeySet(), mid, defaultFinetuneOptions);
    const averaged = await trainer.evaluate(batch, trainer.baseKeySet(), mid, options);
    // The max over pixels of the head mean is at most the max over pixels and heads: averaging first lowers the peaks.
    assert.ok(averaged.enhance > perHead.enhance, `L_en averaged ${averaged.enhance} vs per head ${perHead.enhance}`);
    await checkDirectionalDerivative('tiny-shapes S&E loss, mid_block, heads averaged', trainer, batch, mid, options);
  });

  // Two objects (one of two tokens: "blue square"), batch 4 over two prompts; three objects, batch 2.
  const oneRunCases: [string, TrainingPrompt[], number][] = [
    ['two objects', [PROMPT, { text: 'a green triangle and a blue square', objects: [{ word: 'triangle', start: 8, end: 16 }, { word: 'blue square', start: 23, end: 34 }] }], 4],
    ['three objects', [{ text: 'a red circle, a blue square and a green triangle', objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 21, end: 27 }, { word: 'triangle', start: 40, end: 48 }] }], 2],
  ];
  for (const [label, prompts, size] of oneRunCases) {
    test(`${label}: the one-run step gives the two-run step's loss and key gradients`, async () => {
      const batch = trainer.sampleBatch(await trainer.prepare(prompts), new Rng(7), 0, { batch: size, x0Scale: defaultFinetuneOptions.x0Scale });
      const keys = trainer.baseKeySet();
      const one = await trainer.evaluate(batch, keys, lossLayers, defaultFinetuneOptions);
      const two = await trainer.evaluateWithSeeds(batch, keys, lossLayers, defaultFinetuneOptions);
      // The one run's maps come from the gradient model's forward, another graph than the pipeline's (other fusions),
      // equal to float32 rounding only: a product of three small maps (L_sep of three objects, 2.6e-4) differs by 1.5e-6
      // of itself. On the same maps the in-graph terms are within 1e-7 of the JavaScript ones (test/unit/finetune/lossGraph.test.ts).
      for (const term of ['loss', 'separate', 'enhance'] as const) {
        const relative = Math.abs(one[term] - two[term]) / Math.abs(two[term]);
        console.log(`${label} ${term}: one run ${one[term]}, two runs ${two[term]}, relative difference ${relative.toExponential(2)}`);
        assert.ok(relative <= 5e-6, `${term}: one run ${one[term]}, two runs ${two[term]}`);
      }
      assert.deepEqual([...one.grads.keys()].sort(), [...two.grads.keys()].sort());
      for (const [layer, expected] of two.grads) {
        const actual = one.grads.get(layer) as Float64Array;
        let [dot, aa, bb, scale, worst] = [0, 0, 0, 0, 0];
        expected.forEach((e, i) => {
          dot += actual[i] * e;
          aa += actual[i] * actual[i];
          bb += e * e;
          scale = Math.max(scale, Math.abs(e));
          worst = Math.max(worst, Math.abs(actual[i] - e));
        });
        const cos = dot / Math.sqrt(aa * bb);
        console.log(`${label} ${layer}: cos ${cos.toFixed(9)}, largest error ${(worst / scale).toExponential(2)} of the largest entry`);
        assert.ok(cos >= 0.99999 && worst <= 1e-5 * scale, `${layer}: cos ${cos}, largest error ${worst / scale} of the largest entry`);
      }
    });
  }

  test('with L_norm (weight 0.5) the loss and its gradient still agree', async () => {
    const options = { ...defaultFinetuneOptions, normWeight: 0.5 };
    const batch = trainer.sampleBatch(prepared, new Rng(6), 0, { batch: 2, x0Scale: options.x0Scale });
    assert.ok(batch.every((s) => s.single), 'each sample carries a single-object prompt');
    const base = await trainer.evaluate(batch, trainer.baseKeySet(), lossLayers, options);
    assert.equal(base.norm, 0, 'at the base keys the finetuned and frozen predictions are the same');
    // Move the keys off the base so L_norm has a gradient of its own, then check the derivative there.
    const moved = await trainer.train([PROMPT], { ...options, steps: 2, batch: 2, lr: 1e-2 });
    const at = await trainer.evaluate(batch, moved.keys, lossLayers, options);
    assert.ok(at.norm > 0, `L_norm after two steps: ${at.norm}`);
    await checkDirectionalDerivative('tiny-shapes S&E + 0.5 L_norm (keys after 2 steps)', trainer, batch, lossLayers, options, moved.keys);
  });
});
