// How one generated image came out, as the benchmarks tally it: the detector's success, or one reason it failed.
import type { DetectionReport } from '../src/engine/detector';

export type Outcome = 'success' | 'object missing' | 'wrong colour' | 'wrong shape';

/** The first reason that applies: an object missing (or fewer objects than asked) outranks a wrong colour or shape. */
export function outcomeOf(report: DetectionReport): Outcome {
  if (report.success) return 'success';
  const statuses = report.objects.map((o) => o.status);
  if (statuses.includes('missing') || report.count < report.objects.length) return 'object missing';
  return statuses.includes('wrong-colour') ? 'wrong colour' : 'wrong shape';
}
