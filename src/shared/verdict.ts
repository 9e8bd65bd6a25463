// The results view's verdict line: what the shape detector and the attention scores say about a run, a
// seed list or a before/after pair, in words (vscode- and DOM-free: used by the results webview and
// unit-tested). The detector speaks first (it looks at the picture), then the failure score measured on the
// model (run.json's `failure`), then the attention scores.
import type { DetectionView, FailureView, ScoresView } from './protocol';

export type VerdictTone = 'ok' | 'warn' | 'fail' | 'none';

export interface Verdict {
  tone: VerdictTone;
  /** One sentence per finding, most serious first. */
  lines: string[];
}

export interface VerdictInput {
  detection?: DetectionView;
  scores?: ScoresView;
  failure?: FailureView;
}

/** Two objects' masks sharing this much (IoU) attend to the same area. */
export const MERGE_IOU = 0.3;
/** An object whose peak activation is below this share of the strongest object's is weakly attended. */
export const WEAK_SHARE = 0.6;

const STATUS_SENTENCE: Record<Exclude<DetectionView['objects'][number]['status'], 'found'>, (o: string) => string> = {
  missing: (o) => `${o} may be missing: the detector does not find it`,
  'wrong-colour': (o) => `${o} is drawn in the wrong colour`,
  'wrong-shape': (o) => `${o} is drawn as the wrong shape`,
};

/** The failure score's findings where the model has measured thresholds: objects that score as missing, a prompt at risk. */
function failureFindings(failure: FailureView | undefined): string[] {
  if (failure?.source !== 'model') return [];
  const lines: string[] = [];
  if (failure.failure.objects.some((o) => o.appears === false)) lines.push(failure.failure.verdict);
  if (failure.risk.atRisk) lines.push(failure.risk.verdict);
  return lines;
}

/**
 * Findings of the attention scores: objects attending to the same area, and objects attended weakly. Both are
 * guesses, said only where the model has no measured failure and risk scores, which say it better: on tiny-shapes
 * mask IoU tells the prompts that fail from the others (AUROC 0.91) but not a prompt's failed images from its
 * successful ones (0.58, models/tiny-shapes/README.md), where its measured risk score reaches 0.98 at the prompt level.
 */
function scoreFindings(scores: ScoresView | undefined, failure: FailureView | undefined): string[] {
  const lines = failureFindings(failure);
  if (!scores || failure?.source === 'model') return lines;
  for (const p of scores.pairs) {
    if (p.iou >= MERGE_IOU) lines.push(`${p.a} and ${p.b} attend to the same area (mask IoU ${p.iou.toFixed(2)}): they may merge`);
  }
  const strongest = Math.max(...scores.activations.map((a) => a.value));
  for (const a of scores.activations) {
    if (scores.activations.length > 1 && strongest > 0 && a.value < WEAK_SHARE * strongest) {
      lines.push(`${a.word} is attended weakly (activation ${a.value.toFixed(2)}, ${Math.round((100 * a.value) / strongest)}% of the strongest): it may be left out`);
    }
  }
  return lines;
}

/** One run: the detector's verdict first (it looks at the picture), then what the scores suggest. */
export function runVerdict(input: VerdictInput): Verdict {
  const { detection } = input;
  const findings = scoreFindings(input.scores, input.failure);
  if (detection) {
    const wrong = detection.objects.filter((o) => o.status !== 'found');
    const lines = wrong.map((o) => STATUS_SENTENCE[o.status as Exclude<typeof o.status, 'found'>](o.object));
    if (detection.extra.length > 0) lines.push(`the picture also holds ${detection.extra.join(', ')}, which the prompt does not ask for`);
    if (lines.length === 0) {
      const all = `every object is there (${detection.objects.length}/${detection.objects.length} found by the detector)`;
      return { tone: findings.length > 0 ? 'warn' : 'ok', lines: [all, ...findings.map((f) => `but ${f}`)] };
    }
    return { tone: 'fail', lines: [...lines, ...findings] };
  }
  if (!input.scores && findings.length === 0) return { tone: 'none', lines: ['no marked objects to score and no detector for this prompt: read the maps'] };
  if (findings.length === 0) return { tone: 'ok', lines: ['the objects attend to separate areas with comparable strength (no detector for this prompt: check the picture)'] };
  return { tone: 'warn', lines: [...findings, '(from the attention scores; no detector for this prompt: check the picture)'] };
}

export interface SeedOutcome {
  seed: number;
  detection?: DetectionView;
}

/** A seed list: how many seeds have every object, and which seeds miss what. */
export function seedsVerdict(seeds: SeedOutcome[]): Verdict {
  const checked = seeds.filter((s) => s.detection);
  if (checked.length === 0) return { tone: 'none', lines: [`${seeds.length} seeds; no detector for this prompt: open each seed to compare`] };
  const failed = checked.filter((s) => !s.detection?.success);
  const head = `${checked.length - failed.length} of ${checked.length} seeds have every object`;
  const misses = failed.map((s) => {
    const wrong = s.detection?.objects.filter((o) => o.status !== 'found').map((o) => `${o.object} ${o.status === 'missing' ? 'missing' : o.status.replace('-', ' ')}`);
    return `seed ${s.seed}: ${wrong?.join(', ') || 'extra objects'}`;
  });
  return { tone: failed.length === 0 ? 'ok' : failed.length === checked.length ? 'fail' : 'warn', lines: [head, ...misses] };
}

export interface PairOutcome {
  before: VerdictInput;
  after: VerdictInput;
  /** The two images are pixel-identical. */
  identicalImages: boolean;
  /** Every score row rounds to the same value before and after. */
  scoresUnchanged: boolean;
}

/** Before/after: what the finetune changed on this prompt and seed, and what to try when it changed nothing. */
export function pairVerdict(pair: PairOutcome): Verdict {
  if (pair.identicalImages && pair.scoresUnchanged) {
    return {
      tone: 'warn',
      lines: ['the finetune changed nothing here: same image, same scores', 'try more finetune steps or a higher learning rate, or check that this prompt\u2019s objects are [marked] and were trained on'],
    };
  }
  const b = pair.before.detection;
  const a = pair.after.detection;
  if (b && a) {
    const found = (d: DetectionView): number => d.objects.filter((o) => o.status === 'found').length;
    const n = b.objects.length;
    const change = `${found(b)}/${n} → ${found(a)}/${n} objects found`;
    if (found(a) > found(b)) return { tone: 'ok', lines: [`the finetune fixed this seed: ${change}`, ...runVerdict(pair.after).lines.slice(a.success ? 1 : 0)] };
    if (found(a) < found(b)) return { tone: 'fail', lines: [`the finetune broke this seed: ${change}`, ...runVerdict(pair.after).lines] };
    return { tone: a.success ? 'ok' : 'warn', lines: [`same detector verdict: ${change}`, ...(pair.identicalImages ? ['the images are identical'] : [])] };
  }
  const after = runVerdict(pair.after);
  return { tone: after.tone, lines: [`finetuned: ${after.lines[0]}`, ...after.lines.slice(1)] };
}
