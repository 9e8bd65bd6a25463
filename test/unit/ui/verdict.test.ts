import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DetectionView, ScoresView } from '../../../src/protocol/messages';
import { pairVerdict, runVerdict, seedsVerdict } from '../../../src/results/verdict';

const scores = (circle: number, square: number, iou: number): ScoresView => ({
  overlap: 0.1,
  activations: [
    { word: 'circle', value: circle },
    { word: 'square', value: square },
  ],
  weakest: circle < square ? 'circle' : 'square',
  enhanceLoss: 1 - Math.min(circle, square),
  totalLoss: 0,
  pairs: [{ a: 'circle', b: 'square', iou, ioaA: iou, ioaB: iou }],
});
const detection = (square: DetectionView['objects'][number]['status']): DetectionView => ({
  success: square === 'found',
  objects: [
    { object: 'red circle', status: 'found' },
    { object: 'blue square', status: square },
  ],
  detected: [],
  extra: [],
});

describe('verdict line', () => {
  test('the detector speaks first; scores add what they suggest', () => {
    const missing = runVerdict({ detection: detection('missing'), scores: scores(0.56, 0.2, 0.05) });
    assert.equal(missing.tone, 'fail');
    assert.deepEqual(missing.lines, ['blue square may be missing: the detector does not find it', 'square is attended weakly (activation 0.20, 36% of the strongest): it may be left out']);
    const merged = runVerdict({ detection: detection('found'), scores: scores(0.5, 0.5, 0.45) });
    assert.equal(merged.tone, 'warn');
    assert.deepEqual(merged.lines, ['every object is there (2/2 found by the detector)', 'but circle and square attend to the same area (mask IoU 0.45): they may merge']);
    assert.deepEqual(runVerdict({ detection: detection('found'), scores: scores(0.5, 0.45, 0.1) }), { tone: 'ok', lines: ['every object is there (2/2 found by the detector)'] });
    assert.equal(runVerdict({ scores: scores(0.5, 0.45, 0.1) }).tone, 'ok');
    assert.match(runVerdict({}).lines[0], /no marked objects/);
  });

  test('a seed list names the seeds that miss an object', () => {
    const v = seedsVerdict([
      { seed: 3, detection: detection('missing') },
      { seed: 4, detection: detection('found') },
    ]);
    assert.equal(v.tone, 'warn');
    assert.deepEqual(v.lines, ['1 of 2 seeds have every object', 'seed 3: blue square missing']);
  });

  test('a finetune that changed nothing says so and what to try', () => {
    const same = { detection: detection('missing') };
    const v = pairVerdict({ before: same, after: same, identicalImages: true, scoresUnchanged: true });
    assert.equal(v.tone, 'warn');
    assert.match(v.lines[0], /changed nothing/);
    assert.match(v.lines[1], /more finetune steps or a higher learning rate/);
    const fixed = pairVerdict({ before: same, after: { detection: detection('found') }, identicalImages: false, scoresUnchanged: false });
    assert.deepEqual([fixed.tone, fixed.lines[0]], ['ok', 'the finetune fixed this seed: 1/2 → 2/2 objects found']);
  });
});
