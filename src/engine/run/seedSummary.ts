// One line over the runs of a prompt's seeds: how often the detector found everything, the mean scores, and
// how many seeds may have lost an object by the model's failure score; and the seeds ranked by it.
import type { RunResult } from './runResult';

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
    const riskThreshold = failing[0].failure.risk.recipe.threshold;
    const riskVerdict = riskThreshold === undefined ? '' : risk < riskThreshold ? ` (at risk: below ${riskThreshold})` : ` (not at risk: ≥ ${riskThreshold})`;
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
    .sort((a, b) => a.failure.failure.objects[0].score - b.failure.failure.objects[0].score || a.failure.risk.score - b.failure.risk.score)
    .map(({ seed, failure }, rank) => {
      const weakest = failure.failure.objects[0];
      const status = weakest.appears === undefined ? '' : weakest.appears ? ', appears' : ', may be missing';
      return `${rank + 1}. seed ${seed}: ${weakest.word} ${weakest.score.toFixed(3)}${status} · risk ${failure.risk.score.toFixed(3)}${failure.risk.atRisk ? ' (at risk)' : ''}`;
    });
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
