import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView } from '../../../src/shared/protocol';
import { chooseKeySet, progressDue, keySetsForModel, samplingDetail, statusBarText, statusBarTooltip, trainingDetail } from '../../../src/run/jobLogic';

const job = (patch: Partial<JobView>): JobView => ({ id: 'j', kind: 'generate', label: 'a red [circle]', state: 'running', step: 0, totalSteps: 0, detail: '', ...patch });

describe('status bar item', () => {
  test('nothing running: no item', () => {
    assert.equal(statusBarText([]), undefined);
    assert.equal(statusBarText([job({ state: 'queued' })]), undefined);
  });

  test('spinning, with the running job\'s step, its kind and what is queued', () => {
    assert.equal(statusBarText([job({ step: 5, totalSteps: 20 })]), '$(sync~spin) Prompt Lens: step 5/20');
    assert.equal(statusBarText([job({ kind: 'finetune', step: 3, totalSteps: 10 }), job({ id: 'k', state: 'queued' })]), '$(sync~spin) Prompt Lens: Finetune step 3/10 (+1 queued)');
    assert.equal(statusBarText([job({})]), '$(sync~spin) Prompt Lens: starting…');
    // Sampling the base images after training: the phase, not a training step.
    assert.equal(
      statusBarText([job({ kind: 'finetune', step: 1, totalSteps: 20, detail: samplingDetail(1, 1, 6, 1, 20, 'before') })]),
      '$(sync~spin) Prompt Lens: Finetune · sampling 1/6 · base · step 1/20',
    );
    // Before the first step: what it is doing (shortened).
    assert.equal(statusBarText([job({ kind: 'finetune', detail: 'Loading tiny-shapes…' })]), '$(sync~spin) Prompt Lens: Finetune · Loading tiny-shapes…');
    assert.equal(statusBarText([job({ detail: 'x'.repeat(60) })]), `$(sync~spin) Prompt Lens: ${'x'.repeat(39)}…`);
  });

  test('tooltip says what runs and that a click cancels', () => {
    assert.match(statusBarTooltip([job({ detail: 'step 1/8' })]), /^Generate: a red \[circle\]\nstep 1\/8\nClick to cancel$/);
  });

  test('progress details', () => {
    assert.equal(trainingDetail(3, 10, 0.50449), 'training step 3/10 · loss 0.5045');
    assert.equal(trainingDetail(3, 10, Number.NaN), 'training step 3/10 · loss NaN');
    assert.equal(samplingDetail(2, 1, 6, 4, 8), 'sampling 2/6 · step 4/8');
    assert.equal(samplingDetail(1, 1, 1, 4, 8), 'sampling · step 4/8');
    assert.equal(samplingDetail(3, 1, 6, 1, 8, 'after'), 'sampling 3/6 · finetuned · step 1/8');
    assert.equal(samplingDetail(4, 3, 6, 2, 8, 'before'), 'sampling 4–6/6 · base · step 2/8');
  });
});

describe('Compare: which key set', () => {
  const sets = [
    { id: 'new', file: '/r/new/keys.safetensors', model: { hash: 'aaa' } },
    { id: 'other', file: '/r/other/keys.safetensors', model: { hash: 'bbb' } },
    { id: 'old', file: '/r/old/keys.safetensors', model: { hash: 'aaa' } },
  ];

  test('only key sets of the same base model, newest first as listed', () => {
    assert.deepEqual(keySetsForModel(sets, 'aaa').map((k) => k.id), ['new', 'old']);
    assert.deepEqual(keySetsForModel(sets, 'zzz'), []);
  });

  test('none → tell the user; one → use it; several → ask; a requested one wins', () => {
    assert.deepEqual(chooseKeySet([]), { kind: 'none' });
    assert.deepEqual(chooseKeySet([sets[1]]), { kind: 'one', keySet: sets[1] });
    const matching = keySetsForModel(sets, 'aaa');
    assert.equal(chooseKeySet(matching).kind, 'ask');
    assert.deepEqual(chooseKeySet(matching, (k) => k.id === 'old'), { kind: 'one', keySet: sets[2] });
    // A requested key set of another model is not among the matching ones: ask instead.
    assert.equal(chooseKeySet(matching, (k) => k.id === 'other').kind, 'ask');
  });
});

describe('progress throttling', () => {
  test('first and last steps always, in between at most every 200 ms', () => {
    assert.equal(progressDue(1, 400, 1000, 990), true);
    assert.equal(progressDue(400, 400, 1000, 990), true);
    assert.equal(progressDue(7, 400, 1000, undefined), true);
    assert.equal(progressDue(7, 400, 1100, 1000), false);
    assert.equal(progressDue(8, 400, 1200, 1000), true);
  });
});
