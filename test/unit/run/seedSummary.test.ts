import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FailureScores } from '../../../src/engine/attention/failureScore';
import type { RunResult } from '../../../src/engine/record/runResult';
import { seedRanking, seedSummary } from '../../../src/engine/run/seedSummary';
import { fakeRunResult } from '../../fakes/runResult';

test('seed summary: the seeds, how often every object was found, and the mean scores', () => {
  const a = fakeRunResult('a red circle and a blue square', 0); // overlap 0.2, activations 0.3 / 0.4, not all found
  const b = fakeRunResult('a red circle and a blue square', 10); // overlap 0.3
  const found = { ...b, settings: { ...b.settings, seed: 6 }, detection: { ...b.detection!, success: true } };
  assert.equal(seedSummary([a, found]), '2 seeds (5, 6) · all objects found in 1/2 · mean overlap 0.250 · mean weakest activation 0.300');
  const bare = { ...a, detection: undefined, scores: undefined };
  assert.equal(seedSummary([bare, bare]), '2 seeds (5, 5)', 'no detector verdicts or scores: the seeds only');
});

/**
 * A run whose failure score of the weakest object (square) and risk score are given, with the model's thresholds
 * 0.3 and 0.2; the risk from the weakest object's activation, or (`loss`) from the image's S&E loss.
 */
function scored(seed: number, square: number, risk: number, loss = false): RunResult {
  const run = fakeRunResult('a red circle and a blue square', seed);
  const recipe = { layers: { grids: ['8x8'] }, heads: 'mean' as const, steps: 'second-half', statistic: 'activation' as const };
  const objects = [{ word: 'square', score: square, appears: square >= 0.3 }, { word: 'circle', score: 0.5, appears: true }];
  const failure: FailureScores = {
    failure: { recipe: { ...recipe, threshold: 0.3 }, description: 'd', steps: 'steps 2–3', objects, series: [], verdict: 'v' },
    risk: loss
      ? { recipe: { ...recipe, steps: '1-5', statistic: 'loss', threshold: 0.2 }, description: 'd', steps: 'steps 1–3', score: risk, atRisk: risk > 0.2, verdict: 'v' }
      : { recipe: { ...recipe, steps: '1-5', threshold: 0.2 }, description: 'd', steps: 'steps 1–3', score: risk, word: 'square', atRisk: risk < 0.2, verdict: 'v' },
    source: 'model',
  };
  return { ...run, settings: { ...run.settings, seed }, failure };
}

test('seed summary and ranking: how many seeds may have lost an object, the prompt risk, the seeds weakest first', () => {
  const runs = [scored(1, 0.45, 0.3), scored(2, 0.08, 0.1), scored(3, 0.25, 0.15), scored(4, 0.45, 0.1)];
  assert.match(seedSummary(runs), / · 2\/4 seeds may have lost an object \(failure score below 0\.3: seeds 2, 3\) · prompt risk score 0\.163 \(at risk: below 0\.2\)$/);
  assert.deepEqual(seedRanking(runs), [
    '1. seed 2: square 0.080, may be missing · risk 0.100 (at risk)',
    '2. seed 3: square 0.250, may be missing · risk 0.150 (at risk)',
    '3. seed 4: square 0.450, appears · risk 0.100 (at risk)',
    '4. seed 1: square 0.450, appears · risk 0.300',
  ], 'equal failure scores: the riskier seed first');
  assert.deepEqual(seedRanking([fakeRunResult('a red circle', 0)]), [], 'no failure scores, no ranking');
});

test('a risk from the S&E loss: higher is riskier, in the summary and the ranking', () => {
  const runs = [scored(1, 0.45, 0.1, true), scored(2, 0.45, 0.3, true)];
  assert.match(seedSummary(runs), / · prompt risk score 0\.200 \(not at risk: ≤ 0\.2\)$/);
  assert.deepEqual(seedRanking(runs), ['1. seed 2: square 0.450, appears · risk 0.300 (at risk)', '2. seed 1: square 0.450, appears · risk 0.100']);
  assert.match(seedSummary([scored(1, 0.45, 0.25, true)]), /prompt risk score 0\.250 \(at risk: above 0\.2\)$/);
});
