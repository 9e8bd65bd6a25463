// Before/after score rows with their deltas and which way is better (vscode- and DOM-free: used by
// the results webview and unit-tested). Overlap, losses and IoU: lower is better; activation: higher.
import type { DetectionView, ScoresView } from './protocol';

export interface ScoreDelta {
  label: string;
  before: number;
  after: number;
  delta: number;
  higherIsBetter: boolean;
  /** 'better' / 'worse' / 'same' (|delta| below the shown precision). */
  verdict: 'better' | 'worse' | 'same';
}

const PRECISION = 3;

function row(label: string, before: number, after: number, higherIsBetter: boolean): ScoreDelta {
  const delta = after - before;
  const same = !Number.isFinite(delta) || Math.abs(delta) < 0.5 * 10 ** -PRECISION;
  const verdict = same ? 'same' : delta > 0 === higherIsBetter ? 'better' : 'worse';
  return { label, before, after, delta, higherIsBetter, verdict };
}

/** Rows for every score both runs have, in the order the results view lists them. */
export function scoreDeltas(before: ScoresView | undefined, after: ScoresView | undefined): ScoreDelta[] {
  if (!before || !after) return [];
  const rows = [row('Overlap', before.overlap, after.overlap, false)];
  for (const a of before.activations) {
    const b = after.activations.find((x) => x.word === a.word);
    if (b) rows.push(row(`Activation of ${a.word}`, a.value, b.value, true));
  }
  rows.push(row('Enhance loss', before.enhanceLoss, after.enhanceLoss, false));
  rows.push(row('Loss', before.totalLoss, after.totalLoss, false));
  for (const p of before.pairs) {
    const q = after.pairs.find((x) => x.a === p.a && x.b === p.b);
    if (q) rows.push(row(`IoU ${p.a} × ${p.b}`, p.iou, q.iou, false));
  }
  return rows;
}

/** "−0.111" / "+0.020" with a real minus sign. */
export function signed(value: number, digits = PRECISION): string {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `±${text}`;
  return `${value < 0 ? '−' : '+'}${text}`;
}

/** "Overlap 0.312 → 0.201 (−0.111, better)": one line per row, as the view shows it. */
export function formatDelta(d: ScoreDelta): string {
  return `${d.label} ${d.before.toFixed(PRECISION)} → ${d.after.toFixed(PRECISION)} (${signed(d.delta)}, ${d.verdict})`;
}

export const STATUS_TEXT: Record<DetectionView['objects'][number]['status'], string> = {
  found: 'found',
  'wrong-colour': 'wrong colour',
  'wrong-shape': 'wrong shape',
  missing: 'missing',
};

/** "2/2 found ✓" / "1/2 found ✗" for a detector verdict. */
export function detectionSummary(d: DetectionView | undefined): string {
  if (!d) return 'no detector for this prompt';
  const found = d.objects.filter((o) => o.status === 'found').length;
  return `${found}/${d.objects.length} found ${d.success ? '✓' : '✗'}`;
}

/** The step slider's label: positions 0..steps-1 are single steps, `steps` is the aggregate over all. */
export function stepLabel(position: number, steps: number, range?: { from: number; to: number }): string {
  if (position < steps) return `step ${position + 1} of ${steps}`;
  if (range && (range.from > 0 || range.to < steps - 1)) return range.from === range.to ? `step ${range.from + 1} only (filter)` : `steps ${range.from + 1}–${range.to + 1} of ${steps} (filter)`;
  return `all ${steps} steps`;
}
