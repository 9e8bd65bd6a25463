// End to end on the embedded model, measured as a user would (the detector, not the loss): written without
// articles, "red circle and blue square" loses its second object; the finetune with the model's recommended
// settings (prompt_lens.json) brings it back on most seeds and keeps the single objects L_norm holds (each object
// in the prompt's own words). The same objects written with an article ("a blue square") are measured and
// printed, not held: trained on this one pair they can lose seeds (README, the finetune table). Deterministic
// (seeded noise, CPU), not timed.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkImage, type RequestedObject } from '../../src/engine/detector';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor } from '../../src/engine/finetune/trainer';
import { readModelDetectorWorld, readModelFinetune } from '../../src/engine/model/modelDefaults';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline } from '../../src/engine/pipeline/pipeline';

const MODEL = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-shapes');
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];
const PAIR: Required<RequestedObject>[] = [{ colour: 'red', shape: 'circle' }, { colour: 'blue', shape: 'square' }];
const PROMPT = { text: 'red circle and blue square', objects: [{ word: 'circle', start: 4, end: 10 }, { word: 'square', start: 20, end: 26 }] };

test('the finetune brings back the neglected object of an article-less pair (detector, 8 seeds) and keeps the single objects L_norm holds', async () => {
  const pipeline = await Pipeline.load(await openModelFolder(MODEL));
  const world = await readModelDetectorWorld(MODEL);
  const successes = async (prompt: string, objects: Required<RequestedObject>[], keys?: Map<string, Float32Array>): Promise<number> => {
    let ok = 0;
    for (const seed of SEEDS) {
      const out = await pipeline.generate({ prompt, negativePrompt: '', seed, steps: 20, guidance: 2, eta: 0, ...(keys ? { keys } : {}) });
      if (checkImage(out.image, objects, { world }).success) ok++;
    }
    return ok;
  };
  const singles = async (article: string, keys?: Map<string, Float32Array>): Promise<number[]> => {
    const counts: number[] = [];
    for (const o of PAIR) counts.push(await successes(`${article}${o.colour} ${o.shape}`, [o], keys));
    return counts;
  };

  const before = await successes(PROMPT.text, PAIR);
  const [singlesBefore, articleBefore] = [await singles(''), await singles('a ')];
  const recommended = await readModelFinetune(MODEL);
  assert.ok(recommended.lr && recommended.steps, 'tiny-shapes recommends its finetune settings');
  const trainer = await SepEnTrainer.create(pipeline);
  const trained = await trainer.train([PROMPT], { ...defaultFinetuneOptions, ...recommended, x0Scale: x0ScaleFor(pipeline) });
  await trainer.release();
  assert.equal(trained.stopped, undefined);
  const after = await successes(PROMPT.text, PAIR, trained.keys);
  const [singlesAfter, articleAfter] = [await singles('', trained.keys), await singles('a ', trained.keys)];
  console.log(`"${PROMPT.text}": ${before}/8 -> ${after}/8 seeds with both objects; singles "red circle", "blue square" ${singlesBefore} -> ${singlesAfter} of 8; "a red circle", "a blue square" ${articleBefore} -> ${articleAfter} of 8`);
  assert.ok(before <= 2, `the base model neglects an object on most seeds (${before}/8 succeed)`);
  assert.ok(after >= before + 4, `the finetune fixes at least 4 more seeds: ${before} -> ${after}`);
  singlesAfter.forEach((n, i) => assert.ok(n >= singlesBefore[i] - 1, `single "${PAIR[i].colour} ${PAIR[i].shape}" (an L_norm prompt): ${singlesBefore[i]} -> ${n}`));
});
