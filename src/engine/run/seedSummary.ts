// One line over the runs of a prompt's seeds: how often the detector found everything, the mean scores, and
// how many seeds may have lost an object by the model's failure score; and the seeds ranked by it.
import { lowerIsWorse } from '../attention/scoreRecipe';
import type { RunResult } from '../record/runResult';

export function seedSummary(results: readonly RunResult[]): string {
  const parts = [`${results.length} seeds (${results.map((r) => r.settings.seed).join(', ')})`];
  const detected = results.filter((r) => r.detection);
  if (detected.length > 0) parts.push(`all objects found in ${detected.filter((r) => r.detection?.success).length}/${detected.length}`);
  const scored = results.flatMap((r) => (r.scores ? [r.scores] : []));
  if (scored.length > 0) {
    parts.push(`mean overlap ${mean(scored.map((s) => s.overlap)).toFixed(3)}`, `mean weakest activation ${mean(scored.map((s) => Math.min(...s.activations.map((a) => a.value)))).toFixed(3)}`);
  }
  const failing = results.flatMap((r) => (r.failure ? [{ seed: r.settings.seed, failure: r.failure }] : []));
  if (failing.length > 0) {
    const threshold = failing[0].failure.failure.recipe.threshold;
    if (threshold !== undefined) {
      const lost = failing.filter((r) => r.failure.failure.objects[0].appears === false).map((r) => r.seed);
      parts.push(`${lost.length}/${failing.length} seeds may have lost an object (failure score below ${threshold}${lost.length > 0 ? `: seeds ${lost.join(', ')}` : ''})`);
    }
    const risk = mean(failing.map((r) => r.failure.risk.score));
    const { threshold: riskThreshold, statistic } = failing[0].failure.risk.recipe;
    const low = lowerIsWorse(statistic);
    const riskVerdict =
      riskThreshold === undefined ? '' : (low ? risk < riskThreshold : risk > riskThreshold) ? ` (at risk: ${low ? 'below' : 'above'} ${riskThreshold})` : ` (not at risk: ${low ? '≥' : '≤'} ${riskThreshold})`;
    parts.push(`prompt risk score ${risk.toFixed(3)}${riskVerdict}`);
  }
  return parts.join(' · ');
}

/**
 * The seeds from most to least likely to have lost an object: by the weakest object's failure score, then by
 * the early-step risk score (lower first), one line each. Empty when the runs have no failure scores.
 */
export function seedRanking(results: readonly RunResult[]): string[] {
  return results
    .flatMap((r) => (r.failure ? [{ seed: r.settings.seed, failure: r.failure }] : []))
    .sort((a, b) => a.failure.failure.objects[0].score - b.failure.failure.objects[0].score || riskiness(b.failure) - riskiness(a.failure))
    .map(({ seed, failure }, rank) => {
      const weakest = failure.failure.objects[0];
      const status = weakest.appears === undefined ? '' : weakest.appears ? ', appears' : ', may be missing';
      return `${rank + 1}. seed ${seed}: ${weakest.word} ${weakest.score.toFixed(3)}${status} · risk ${failure.risk.score.toFixed(3)}${failure.risk.atRisk ? ' (at risk)' : ''}`;
    });
}

/** The risk score oriented so that higher is riskier (a per-object statistic fades, a loss grows). */
function riskiness(failure: NonNullable<RunResult['failure']>): number {
  return lowerIsWorse(failure.risk.recipe.statistic) ? -failure.risk.score : failure.risk.score;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
