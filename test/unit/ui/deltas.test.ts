import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScoresView } from '../../../src/shared/protocol';
import { detectionSummary, formatDelta, scoreDeltas, signed, stepLabel } from '../../../src/shared/deltas';
import { exportFileName, isInside } from '../../../src/results/folders';

const scores = (overlap: number, circle: number, square: number, iou: number): ScoresView => ({
  overlap,
  activations: [
    { word: 'circle', value: circle },
    { word: 'square', value: square },
  ],
  weakest: circle < square ? 'circle' : 'square',
  enhanceLoss: 1 - Math.min(circle, square),
  totalLoss: overlap + 0.5 * (1 - Math.min(circle, square)),
  pairs: [{ a: 'circle', b: 'square', iou, ioaA: 0.5, ioaB: 0.5 }],
});

describe('before/after score deltas', () => {
  test('overlap lower is better, activation higher is better', () => {
    const rows = scoreDeltas(scores(0.312, 0.3, 0.5, 0.4), scores(0.201, 0.45, 0.48, 0.4));
    const by = (label: string) => rows.find((r) => r.label === label);
    assert.equal(by('Overlap')?.verdict, 'better');
    assert.equal(by('Activation of circle')?.verdict, 'better');
    assert.equal(by('Activation of square')?.verdict, 'worse');
    assert.equal(by('IoU circle × square')?.verdict, 'same');
    assert.equal(by('Loss')?.verdict, 'better');
    assert.equal(formatDelta(by('Overlap')!), 'Overlap 0.312 → 0.201 (−0.111, better)');
    assert.equal(formatDelta(by('Activation of circle')!), 'Activation of circle 0.300 → 0.450 (+0.150, better)');
  });

  test('a worse overlap is worse; missing scores give no rows', () => {
    assert.equal(scoreDeltas(scores(0.1, 0.3, 0.3, 0), scores(0.2, 0.3, 0.3, 0))[0].verdict, 'worse');
    assert.deepEqual(scoreDeltas(undefined, scores(0.1, 0.3, 0.3, 0)), []);
  });

  test('signs, labels and verdict summaries', () => {
    assert.equal(signed(-0.1114), '−0.111');
    assert.equal(signed(0.02), '+0.020');
    assert.equal(signed(-0.0001), '±0.000');
    assert.equal(stepLabel(0, 20), 'step 1 of 20');
    assert.equal(stepLabel(20, 20), 'all 20 steps');
    assert.equal(detectionSummary(undefined), 'no detector for this prompt');
    assert.equal(
      detectionSummary({ success: false, objects: [{ object: 'red circle', status: 'found' }, { object: 'blue square', status: 'missing' }], detected: [], extra: [] }),
      '1/2 found ✗',
    );
  });
});

describe('folders named by webview messages', () => {
  test('only the folder shown or inside it', () => {
    assert.equal(isInside('/runs/a', '/runs/a'), true);
    assert.equal(isInside('/runs/a/before/x', '/runs/a'), true);
    assert.equal(isInside('/runs/a/../b', '/runs/a'), false);
    assert.equal(isInside('/etc', '/runs/a'), false);
    assert.equal(isInside('/runs/ab', '/runs/a'), false);
  });

  test('export names are plain file names ending in .png', () => {
    assert.equal(exportFileName('20261127-finetune-x-1'), '20261127-finetune-x-1.png');
    assert.equal(exportFileName('../../etc/passwd'), 'passwd.png');
    assert.equal(exportFileName('a b/c?d.PNG'), 'c-d.png');
    assert.equal(exportFileName(''), 'prompt-lens.png');
  });
});
