import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seedSummary } from '../../../src/engine/run/seedSummary';
import { fakeRunResult } from '../../fakes/runResult';

test('seed summary: the seeds, how often every object was found, and the mean scores', () => {
  const a = fakeRunResult('a red circle and a blue square', 0); // overlap 0.2, activations 0.3 / 0.4, not all found
  const b = fakeRunResult('a red circle and a blue square', 10); // overlap 0.3
  const found = { ...b, settings: { ...b.settings, seed: 6 }, detection: { ...b.detection!, success: true } };
  assert.equal(seedSummary([a, found]), '2 seeds (5, 6) · all objects found in 1/2 · mean overlap 0.250 · mean weakest activation 0.300');
  const bare = { ...a, detection: undefined, scores: undefined };
  assert.equal(seedSummary([bare, bare]), '2 seeds (5, 5)', 'no detector verdicts or scores: the seeds only');
});
