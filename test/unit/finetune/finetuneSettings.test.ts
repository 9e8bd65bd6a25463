import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFinetuneSettings, resolveFinetuneSettings } from '../../../src/engine/finetune/finetuneSettings';

test('finetune settings: this run, then the user, then the model, then the engine', () => {
  assert.deepEqual(resolveFinetuneSettings({}), { values: { lr: 3e-5, steps: 200, normWeight: 0 }, sources: { lr: 'engine', steps: 'engine', normWeight: 'engine' } });
  const model = { lr: 3e-4 };
  assert.deepEqual(resolveFinetuneSettings({ model }).sources, { lr: 'model', steps: 'engine', normWeight: 'engine' });
  assert.deepEqual(resolveFinetuneSettings({ model, userSettings: { lr: 1e-5 } }).values.lr, 1e-5);
  const all = resolveFinetuneSettings({ model: { lr: 3e-4, steps: 300 }, userSettings: { lr: 1e-5, steps: 50 }, overrides: { steps: 10 } });
  assert.deepEqual(all, { values: { lr: 1e-5, steps: 10, normWeight: 0 }, sources: { lr: 'setting', steps: 'override', normWeight: 'engine' } });
  // An override left undefined (a CLI flag not given) does not hide the layers below it.
  assert.equal(resolveFinetuneSettings({ overrides: { lr: undefined }, model }).values.lr, 3e-4);
});

test('finetune settings: described with their sources', () => {
  assert.equal(describeFinetuneSettings(resolveFinetuneSettings({ model: { lr: 3e-4 } })), 'lr 0.0003 (model default), 200 steps (engine default)');
  assert.equal(describeFinetuneSettings(resolveFinetuneSettings({ overrides: { lr: 1e-4, steps: 5 } })), 'lr 0.0001, 5 steps');
  assert.equal(describeFinetuneSettings(resolveFinetuneSettings({ model: { normWeight: 2 } })), 'lr 0.00003 (engine default), 200 steps (engine default), L_norm weight 2 (model default)');
});
