// One line over the runs of a prompt's seeds: how often the detector found everything, and the mean scores.
import type { RunResult } from './runResult';

export function seedSummary(results: readonly RunResult[]): string {
  const parts = [`${results.length} seeds (${results.map((r) => r.settings.seed).join(', ')})`];
  const detected = results.filter((r) => r.detection);
  if (detected.length > 0) parts.push(`all objects found in ${detected.filter((r) => r.detection?.success).length}/${detected.length}`);
  const scored = results.flatMap((r) => (r.scores ? [r.scores] : []));
  if (scored.length > 0) {
    const mean = (values: number[]): string => (values.reduce((a, b) => a + b, 0) / values.length).toFixed(3);
    parts.push(`mean overlap ${mean(scored.map((s) => s.overlap))}`, `mean weakest activation ${mean(scored.map((s) => Math.min(...s.activations.map((a) => a.value))))}`);
  }
  return parts.join(' · ');
}
