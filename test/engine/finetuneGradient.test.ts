// The finetune's gradient through the real embedded ONNX model (the UNet's gradient model, every key layer)
// against central differences of the loss, with and without L_norm.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { defaultFinetuneOptions, SepEnTrainer, singleObjectPrompts, type LossLayers, type PreparedPrompt } from '../../src/engine/finetune/trainer';
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
