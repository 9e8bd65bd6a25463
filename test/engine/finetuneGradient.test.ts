// The finetune's analytic key gradient against finite differences through the real embedded ONNX model.
// The last cross-attention layer's key reaches the loss only through its own maps, so there the
// layer-local gradient is the full gradient and must match finite differences; for earlier layers
// the left-out path (their effect on later layers' queries) is what the benchmark measures.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { defaultFinetuneOptions, SepEnTrainer, type LossLayers, type PreparedPrompt, type TrainingSample } from '../../src/engine/finetune/trainer';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline } from '../../src/engine/pipeline/pipeline';
import { Rng } from '../../src/engine/random';

const MODEL = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-shapes');
const PROMPT = { text: 'a red circle and a blue square', objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 24, end: 30 }] };

describe('finetune gradient through the ONNX model', () => {
  let trainer: SepEnTrainer;
  let prepared: PreparedPrompt[];
  let lossLayers: LossLayers;
  let batch: TrainingSample[];

  before(async () => {
    const pipeline = await Pipeline.load(await openModelFolder(MODEL));
    trainer = await SepEnTrainer.create(pipeline);
    prepared = await trainer.prepare([PROMPT]);
    lossLayers = await trainer.lossLayers(prepared[0]);
    batch = trainer.sampleBatch(prepared, new Rng(5), 0, { batch: 2, x0Scale: defaultFinetuneOptions.x0Scale });
  });

  test('the loss reads the 16x16 layers of the embedded model', () => {
    assert.equal(lossLayers.gridH, 16);
    assert.deepEqual(
      lossLayers.layers.map((l) => l.name),
      ['down_blocks.0.attentions.0', 'up_blocks.1.attentions.0', 'up_blocks.1.attentions.1'].map((b) => `${b}.transformer_blocks.0.attn2`),
    );
  });

  test('directional derivative of the last layer matches central differences (rel. err <= 1e-3)', async () => {
    const keys = trainer.baseKeySet();
    const { loss, grads } = await trainer.evaluate(batch, keys, lossLayers, defaultFinetuneOptions);
    const last = lossLayers.layers[lossLayers.layers.length - 1];
    const g = grads.get(last.name) as Float64Array;
    const norm = Math.hypot(...g);
    assert.ok(norm > 0, 'the gradient is not zero');
    // Step along the unit gradient: the derivative there is |g|; float32 forwards need a step well
    // above their rounding (1e-7 relative) but small enough to stay off the max's kinks.
    const lossAt = async (eps: number): Promise<number> => {
      const moved = new Map(keys);
      moved.set(last.name, Float32Array.from(keys.get(last.name) as Float32Array, (w, i) => w + (eps * g[i]) / norm));
      return (await trainer.evaluate(batch, moved, lossLayers, defaultFinetuneOptions)).loss;
    };
    // The loss is a max of smooth pieces: a step that crosses a kink (another pixel or head takes the
    // max) is not a derivative. A kink shows as the one-sided differences disagreeing, so the step
    // used is the one where they agree best.
    const at0 = await lossAt(0);
    let best = { eps: 0, fd: NaN, disagreement: Infinity };
    for (const eps of [1e-2, 3e-3, 1e-3, 3e-4]) {
      const [plus, minus] = [await lossAt(eps), await lossAt(-eps)];
      const disagreement = Math.abs((plus - at0) / eps - (at0 - minus) / eps) / norm;
      if (disagreement < best.disagreement) best = { eps, fd: (plus - minus) / (2 * eps), disagreement };
    }
    const relative = Math.abs(best.fd - norm) / norm;
    assert.ok(Number.isFinite(loss));
    console.log(
      `last layer: analytic ${norm.toExponential(6)}, central difference ${best.fd.toExponential(6)} (step ${best.eps}), relative error ${relative.toExponential(2)}`,
    );
    assert.ok(relative <= 1e-3, `finite difference ${best.fd} vs analytic ${norm}: relative error ${relative}`);
  });
});
