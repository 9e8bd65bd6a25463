import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DetectionView, FailureView, ScoresView } from '../../../src/shared/protocol';
import { pairVerdict, runVerdict, seedsVerdict } from '../../../src/shared/verdict';

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

  test('a measured failure score names the object at risk and replaces the weak-activation guess', () => {
    const recipe = { layers: { grids: ['8x8'] }, heads: 'mean', steps: 'last', statistic: 'activation', threshold: 0.27 } as const;
    const failure = (square: number, source: FailureView['source'] = 'model', atRisk = false): FailureView => ({
      failure: {
        recipe,
        description: 'activation, 8x8 layers, head mean, last step',
        steps: 'step 20',
        objects: [
          { word: 'square', score: square, ...(source === 'model' ? { appears: square >= 0.27 } : {}) },
          { word: 'circle', score: 0.6, ...(source === 'model' ? { appears: true } : {}) },
        ],
        series: [],
        verdict: `square may be missing: activation ${square.toFixed(2)}; objects that appear score ≥ 0.27 on this model`,
      },
      risk: { recipe, description: '', steps: 'steps 1–5', score: 0.1, word: 'square', ...(source === 'model' ? { atRisk } : {}), verdict: 'prompt at risk: square…' },
      source,
    });
    // No detector (not the embedded vocabulary): the failure score leads.
    const lost = runVerdict({ scores: scores(0.56, 0.08, 0.05), failure: failure(0.08, 'model', true) });
    assert.equal(lost.tone, 'warn');
    assert.match(lost.lines[0], /^square may be missing: activation 0\.08/);
    assert.match(lost.lines[1], /^prompt at risk/);
    assert.ok(!lost.lines.some((l) => /attended weakly/.test(l)), 'the measured score replaces the share-of-strongest guess');
    // The detector found everything but the score says an object is faint: a warning after the detector's word.
    const faint = runVerdict({ detection: detection('found'), scores: scores(0.56, 0.2, 0.05), failure: failure(0.2) });
    assert.equal(faint.tone, 'warn');
    assert.match(faint.lines[1], /^but square may be missing/);
    // Unmeasured recipes (the engine's default on SD): no threshold, so the verdict keeps the score heuristics.
    const unmeasured = runVerdict({ scores: scores(0.56, 0.2, 0.05), failure: failure(0.2, 'engine') });
    assert.ok(unmeasured.lines.some((l) => /attended weakly/.test(l)));
  });

  test('shared areas are a guess said only where the model has no measured scores', () => {
    const recipe = { layers: { grids: ['8x8'] }, heads: 'mean', steps: 'last', statistic: 'activation', threshold: 0.27 } as const;
    const failure = (source: FailureView['source']): FailureView => ({
      failure: { recipe, description: '', steps: 'step 20', objects: [{ word: 'square', score: 0.5, ...(source === 'model' ? { appears: true } : {}) }], series: [], verdict: '' },
      risk: { recipe, description: '', steps: 'steps 1–3', score: 0.05, ...(source === 'model' ? { atRisk: false } : {}), verdict: '' },
      source,
    });
    const overlapping = scores(0.5, 0.5, 0.45);
    // Measured (tiny-shapes): IoU tells risky prompts apart, not this image; the risk score says that with a threshold.
    assert.deepEqual(runVerdict({ detection: detection('found'), scores: overlapping, failure: failure('model') }), { tone: 'ok', lines: ['every object is there (2/2 found by the detector)'] });
    assert.ok(runVerdict({ detection: detection('found'), scores: overlapping, failure: failure('engine') }).lines.some((l) => /may merge/.test(l)));
  });
});
