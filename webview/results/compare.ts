// The before/after view: base and finetuned images side by side and split by a slider, score deltas, the
// detector's verdicts, both runs' object masks and overlap maps, the loss curve; reports what it drew.
import { detectionSummary, formatDelta, scoreDeltas, signed, STATUS_TEXT } from '../../src/shared/deltas';
import type { CompareView, RunView, ViewRef } from '../../src/shared/protocol';
import { helpFor } from '../../src/shared/scoreHelp';
import { pairVerdict } from '../../src/shared/verdict';
import { CLASS, RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { setupStep } from '../widgets/stepSlider';
import { cell, headRow } from '../widgets/tables';
import { showVerdict } from '../widgets/verdictLine';
import { renderChips } from '../widgets/wordChips';
import { renderMaskFigures } from './analysis';
import { drawCurve, drawHeat, drawImageWithOverlay, mapMaxOf } from './canvas';
import { load, mapAt, releaseShown, timelineSteps } from './loadedRun';
import { drawRevealCanvas } from './reveal';
import type { Pair, ResultsState } from './state';

const ID = RESULTS_ID.compare;

export function compareRef(state: ResultsState): ViewRef | undefined {
  return state.compare ? { kind: 'compare', folder: state.compare.view.folder, initial: state.comparison } : undefined;
}

export async function showCompare(state: ResultsState, view: CompareView): Promise<void> {
  const pairs: Pair[] = [];
  for (const c of view.comparisons) pairs.push({ before: await load(c.before), after: await load(c.after) });
  if (state.mode !== 'compare' || state.compare?.view.folder !== view.folder) window.scrollTo(0, 0);
  releaseShown(state);
  state.compare = { view, pairs };
  state.single = undefined;
  state.mode = 'compare';
  const ref: ViewRef = { kind: 'compare', folder: view.folder };
  const same = state.saved.ref?.kind === 'compare' && state.saved.ref.folder === view.folder;
  state.comparison = same && state.saved.comparison !== undefined && state.saved.comparison < pairs.length ? state.saved.comparison : view.initial;
  const first = pairs[state.comparison]?.before.run;
  state.restoreFor({ ...ref, initial: state.comparison }, first?.words ?? [], first ? timelineSteps(first) : 0);
  state.save({ comparison: state.comparison });
  el(RESULTS_ID.empty).hidden = true;
  el(RESULTS_ID.run.view).hidden = true;
  el(ID.view).hidden = false;
  el(ID.title).textContent = view.title;
  el(ID.title).title = view.titleTooltip;
  const which = el<HTMLSelectElement>(ID.which);
  which.replaceChildren(
    ...view.comparisons.map((c, i) => {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = `${c.prompt} · seed ${c.seed}${c.group !== 'compare' ? ` (${c.group})` : ''}`;
      return option;
    }),
  );
  which.hidden = view.comparisons.length < 2;
  el(ID.whichLabel).hidden = which.hidden;
  const curve = view.curve ?? [];
  el(ID.curveSection).hidden = curve.length === 0;
  if (curve.length > 0) {
    const styles = getComputedStyle(document.body);
    drawCurve(el<HTMLCanvasElement>(ID.curve), curve, styles.getPropertyValue('--vscode-charts-blue') || styles.color, styles.getPropertyValue('--vscode-panel-border') || styles.color, styles.color);
    el(ID.curveLabel).textContent = `loss ${curve[0].toFixed(4)} → ${curve[curve.length - 1].toFixed(4)} in ${curve.length} steps`;
  }
  renderCompare(state);
}

export function renderCompare(state: ResultsState): void {
  const { compare } = state;
  if (!compare) return;
  const pair = compare.pairs[state.comparison];
  if (!pair) return;
  el<HTMLSelectElement>(ID.which).value = String(state.comparison);
  const { before, after } = pair;
  el(ID.meta).textContent = `${before.run.prompt} · ${before.run.model} · ${before.run.provider} · seed ${before.run.seed} · ${before.run.steps} steps`;
  const steps = timelineSteps(before.run);
  if (state.position > steps) state.position = steps;
  renderCompareWords(state);
  // Scores with deltas.
  const deltas = scoreDeltas(before.run.scores, after.run.scores);
  const table = el(ID.scores);
  table.replaceChildren(headRow(['', 'base', 'finetuned', 'Δ']));
  for (const d of deltas) {
    const tr = document.createElement('tr');
    tr.className = d.verdict;
    tr.title = helpFor(d.label) || `${d.higherIsBetter ? 'higher' : 'lower'} is better`;
    const delta = document.createElement('td');
    delta.className = `${CLASS.delta} ${d.verdict}`;
    delta.textContent = `${signed(d.delta)} ${d.verdict === 'better' ? '▲ better' : d.verdict === 'worse' ? '▼ worse' : '='}`;
    tr.append(cell('th', `${d.label} ${d.higherIsBetter ? '↑' : '↓'}`), cell('td', d.before.toFixed(3)), cell('td', d.after.toFixed(3)), delta);
    table.append(tr);
  }
  const same = (x: ArrayBuffer, y: ArrayBuffer): boolean => x.byteLength === y.byteLength && new Uint8Array(x).every((v, i) => v === new Uint8Array(y)[i]);
  const input = (run: RunView) => ({ ...(run.detection ? { detection: run.detection } : {}), ...(run.scores ? { scores: run.scores } : {}), ...(run.failure ? { failure: run.failure } : {}) });
  const verdict = showVerdict(
    el(ID.verdict),
    pairVerdict({ before: input(before.run), after: input(after.run), identicalImages: same(before.run.imagePng, after.run.imagePng), scoresUnchanged: deltas.every((d) => d.verdict === 'same') }),
  );
  renderDetector(before.run, after.run);
  // Object masks before and after: did the finetune pull the objects' maps apart?
  const maskRows: Record<'before' | 'after', string[]> = { before: [], after: [] };
  for (const [side, loaded, id] of [['before', before, ID.masksBefore], ['after', after, ID.masksAfter]] as const) {
    const grid = el(id);
    grid.replaceChildren();
    maskRows[side] = renderMaskFigures(grid, loaded, side === 'before' ? 'base: ' : 'finetuned: ');
  }
  el(ID.masksSection).hidden = !before.run.scores || before.run.scores.activations.length === 0;
  for (const [id, run] of [[ID.overlapBefore, before.run], [ID.overlapAfter, after.run]] as const) {
    const overlap = new Float32Array(run.overlapMap);
    drawHeat(el<HTMLCanvasElement>(id), overlap, run.mapHeight, run.mapWidth, Math.max(mapMaxOf(new Float32Array(before.run.overlapMap)), mapMaxOf(new Float32Array(after.run.overlapMap))));
  }
  state.post({
    type: 'rendered',
    state: {
      runId: compare.view.id,
      imageShown: before.image.naturalWidth > 0,
      afterImageShown: after.image.naturalWidth > 0,
      tokenMaps: before.run.words.map((w) => w.word),
      mode: 'compare',
      deltas: deltas.map(formatDelta),
      timelineSteps: steps,
      masks: maskRows.before,
      afterMasks: maskRows.after,
      verdict,
    },
  });
}

/** The detector's verdict per object, base and finetuned. */
function renderDetector(before: RunView, after: RunView): void {
  const detect = el(ID.detect);
  detect.replaceChildren(headRow(['', 'base', 'finetuned']));
  const bd = before.detection;
  const ad = after.detection;
  el(ID.beforeVerdict).textContent = bd ? detectionSummary(bd) : '';
  el(ID.afterVerdict).textContent = ad ? detectionSummary(ad) : '';
  if (bd || ad) {
    const objects = (bd ?? ad)?.objects.map((o) => o.object) ?? [];
    for (const object of objects) {
      const b = bd?.objects.find((o) => o.object === object)?.status;
      const a = ad?.objects.find((o) => o.object === object)?.status;
      const tr = document.createElement('tr');
      tr.append(cell('th', object), cell('td', b ? STATUS_TEXT[b] : '–', b), cell('td', a ? STATUS_TEXT[a] : '–', a));
      detect.append(tr);
    }
    const tr = document.createElement('tr');
    tr.append(cell('th', 'all found'), cell('td', bd ? (bd.success ? 'yes' : 'no') : '–'), cell('td', ad ? (ad.success ? 'yes' : 'no') : '–'));
    detect.append(tr);
  } else {
    const tr = document.createElement('tr');
    tr.append(cell('td', 'The detector only reads prompts in the embedded model’s vocabulary.'));
    detect.append(tr);
  }
}

/** Chips, step slider and the two overlays (same word, same step, one colour scale for both). */
export function renderCompareWords(state: ResultsState): void {
  const pair = state.compare?.pairs[state.comparison];
  if (!pair) return;
  const { before, after } = pair;
  const { selected, position } = state;
  const steps = timelineSteps(before.run);
  renderChips(el(ID.chips), before.run.words, {
    selected,
    pressed: state.overlay().mode !== 'image',
    ...(after.run.scores ? { activations: after.run.scores.activations } : {}),
    click: (i) => state.actions.select(i),
    select: (i) => state.actions.select(i),
  });
  setupStep({ input: ID.step, label: ID.stepLabel, row: ID.stepRow }, position, steps);
  const b = mapAt(before, selected, position);
  const a = mapAt(after, Math.min(selected, after.run.words.length - 1), position);
  const max = Math.max(mapMaxOf(b.map), mapMaxOf(a.map));
  state.pairCanvases = {
    before: drawImageWithOverlay(el<HTMLCanvasElement>(ID.before), before.image, b.map, b.h, b.w, max),
    after: drawImageWithOverlay(el<HTMLCanvasElement>(ID.after), after.image, a.map, a.h, a.w, max),
  };
  drawRevealCanvas(state);
}
