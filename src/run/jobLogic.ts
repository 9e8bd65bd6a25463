// Pure helpers for the run queue's texts (status bar, sidebar) and Compare's key-set choice; vscode-free, unit-tested.
import type { SelectionOptions } from '../engine/attention';
import type { JobKind, JobView, MapFilter } from '../shared/protocol';

export const KIND_TITLE: Record<JobKind, string> = { generate: 'Generate', finetune: 'Finetune', compare: 'Compare' };

/** `$(sync~spin) Prompt Lens: step 5/20` for the running job, with the number queued behind it. */
export function statusBarText(jobs: readonly JobView[]): string | undefined {
  const running = jobs.find((j) => j.state === 'running');
  if (!running) return undefined;
  const queued = jobs.filter((j) => j.state === 'queued').length;
  const detail = running.detail.length > 40 ? `${running.detail.slice(0, 39)}…` : running.detail;
  // A finetune's before/after sampling counts sampling steps, not training steps: the detail says which.
  const stepped = running.totalSteps > 0 && !running.detail.startsWith('sampling');
  const progress = stepped ? `step ${running.step}/${running.totalSteps}` : detail || 'starting…';
  const phase = running.kind === 'generate' ? '' : `${KIND_TITLE[running.kind]}${stepped ? ' ' : ' · '}`;
  return `$(sync~spin) Prompt Lens: ${phase}${progress}${queued > 0 ? ` (+${queued} queued)` : ''}`;
}

export function statusBarTooltip(jobs: readonly JobView[]): string {
  const running = jobs.find((j) => j.state === 'running');
  if (!running) return '';
  return `${KIND_TITLE[running.kind]}: ${running.label}\n${running.detail}\nClick to cancel`;
}

/** "step 3/10 · loss 0.5045" for a training step. */
export function trainingDetail(step: number, total: number, loss: number): string {
  return `training step ${step}/${total} · loss ${Number.isFinite(loss) ? loss.toFixed(4) : String(loss)}`;
}

/**
 * "sampling 2/6 · step 4/8", "sampling 1–3/6 · finetuned · step 4/8" for runs 1 to 3 sampled together, while a
 * finetune samples its before/after runs: `count` runs from the 1-based `first` of `runs`.
 */
export function samplingDetail(first: number, count: number, runs: number, step: number, steps: number, side?: 'before' | 'after'): string {
  const which = side === undefined ? '' : side === 'before' ? ' · base' : ' · finetuned';
  const sampled = count > 1 ? `${first}–${first + count - 1}` : `${first}`;
  return runs > 1 ? `sampling ${sampled}/${runs}${which} · step ${step}/${steps}` : `sampling${which} · step ${step}/${steps}`;
}

/** Key sets for Compare: those made from the file's base model (by fingerprint), newest first as given. */
export function keySetsForModel<T extends { model: { hash: string } }>(keySets: readonly T[], modelHash: string): T[] {
  return keySets.filter((k) => k.model.hash === modelHash);
}

/** What Compare does with the key sets it found: none → tell the user; one → use it; several → ask. */
export type KeySetChoice<T> = { kind: 'none' } | { kind: 'one'; keySet: T } | { kind: 'ask'; keySets: T[] };

export function chooseKeySet<T>(matching: readonly T[], requested?: (k: T) => boolean): KeySetChoice<T> {
  if (requested) {
    const found = matching.find(requested);
    if (found) return { kind: 'one', keySet: found };
  }
  if (matching.length === 0) return { kind: 'none' };
  if (matching.length === 1) return { kind: 'one', keySet: matching[0] };
  return { kind: 'ask', keySets: [...matching] };
}

export const NO_KEY_SET_MESSAGE = 'no finetuned key set for this model yet. Run Finetune first.';

/** UI updates at most this often while a job steps (the embedded model takes ~40 ms a step). */
export const PROGRESS_INTERVAL_MS = 200;

/**
 * Whether a progress update is worth sending to the workbench: the first and last steps always, in
 * between at most every PROGRESS_INTERVAL_MS, so a fast loop does not flood the UI (which delays a
 * click on Cancel).
 */
export function progressDue(step: number, totalSteps: number, now: number, lastSent: number | undefined): boolean {
  return lastSent === undefined || step <= 1 || step >= totalSteps || now - lastSent >= PROGRESS_INTERVAL_MS;
}

/** The engine's selection for a filter of the results view. */
export function selectionOf(filter: MapFilter, layers: readonly { gridH: number; gridW: number }[] = []): SelectionOptions {
  // All layers: every grid named, so DAAM keeps the coarsest one too.
  const all = filter.allLayers && filter.layer === undefined && filter.grid === undefined && layers.length > 0;
  return {
    ...(all ? { grids: [...new Set(layers.map((l) => `${l.gridH}x${l.gridW}`))] } : {}),
    ...(filter.layer !== undefined ? { layers: [filter.layer] } : {}),
    ...(filter.grid !== undefined ? { grids: [filter.grid] } : {}),
    ...(filter.head !== undefined ? { heads: [filter.head] } : {}),
    ...(filter.steps ? { steps: { from: filter.steps.from, to: filter.steps.to } } : {}),
  };
}

/** "layer up_blocks.1…, head 3, steps 2–5" or "all layers, all heads, all steps". */
export function describeFilter(filter: MapFilter): string {
  const layers = filter.layer !== undefined ? `layer ${filter.layer}` : filter.grid !== undefined ? `${filter.grid} layers` : filter.allLayers ? 'all layers' : 'default layers';
  const heads = filter.head !== undefined ? `head ${filter.head}` : 'all heads';
  const steps = filter.steps ? (filter.steps.from === filter.steps.to ? `step ${filter.steps.from + 1}` : `steps ${filter.steps.from + 1}–${filter.steps.to + 1}`) : 'all steps';
  return `${layers}, ${heads}, ${steps}`;
}
