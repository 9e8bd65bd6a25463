// The one-run view: the image with the selected word's overlay, the word chips and step slider, a map per
// word, the scores, the failure score's step plot, then the analysis and filters; reports what it drew.
import { detectionSummary, STATUS_TEXT, stepLabel } from '../../src/shared/deltas';
import { stepPlot } from '../../src/shared/failureSection';
import type { RunView } from '../../src/shared/protocol';
import { SCORE_HELP } from '../../src/shared/scoreHelp';
import { runVerdict, seedsVerdict } from '../../src/shared/verdict';
import { CLASS, DATA, RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { setupStep } from '../widgets/stepSlider';
import { showVerdict } from '../widgets/verdictLine';
import { renderChips } from '../widgets/wordChips';
import { renderAnalysis } from './analysis';
import { drawHeat, drawImageWithOverlay, mapMaxOf } from './canvas';
import { renderFilters } from './filters';
import { load, mapAt, releaseShown, scaleMax, timelineSteps } from './loadedRun';
import { renderSeedRuns } from './seedStrip';
import type { LoadedRun, ResultsState } from './state';

const ID = RESULTS_ID.run;

export async function showRun(state: ResultsState, run: RunView): Promise<void> {
  const loaded = await load(run);
  const { single } = state;
  // A filter's view of the shown run keeps the scroll position; another run starts at the top.
  const refiltered = state.filtering !== undefined && state.filtering === run.runFolder && single?.run.runFolder === run.runFolder;
  if (!refiltered && (state.mode !== 'run' || single?.run.runFolder !== run.runFolder)) window.scrollTo(0, 0);
  const keepWord = refiltered ? single?.run.words[state.selected]?.word : undefined;
  state.filtering = undefined;
  releaseShown(state);
  state.single = loaded;
  state.compare = undefined;
  state.mode = 'run';
  if (refiltered) {
    // The same run with other maps: keep the word; the slider goes to all steps (the filter applies there).
    state.save({ ref: { kind: 'run', folder: run.runFolder }, selectedWord: keepWord, step: timelineSteps(run) });
  }
  const sameRef = state.saved.ref?.kind === 'run' && state.saved.ref.folder === run.runFolder;
  state.shownFilter = run.filter ?? (sameRef && state.saved.filter ? state.saved.filter : {});
  state.restoreFor({ kind: 'run', folder: run.runFolder }, run.words, timelineSteps(run));
  state.save({ filter: state.shownFilter });
  el(RESULTS_ID.empty).hidden = true;
  el(RESULTS_ID.compare.view).hidden = true;
  el(ID.view).hidden = false;
  el(ID.prompt).textContent = run.prompt;
  el(ID.meta).textContent = `${run.model} · ${run.provider} · seed ${run.seed} · ${run.steps} steps · ${Math.round(run.totalMs)} ms`;
  const seeds = renderSeedRuns(state, run);
  const verdict = showVerdict(
    el(ID.verdict),
    runVerdict({ ...(run.detection ? { detection: run.detection } : {}), ...(run.scores ? { scores: run.scores } : {}), ...(run.failure ? { failure: run.failure } : {}) }),
    run.seedRuns && run.seedRuns.length > 1 ? seedsVerdict(run.seedRuns) : undefined,
  );
  renderStepPlot(state);
  renderRunChipsAndOverlay(state);
  renderGrid(state);
  renderScores(loaded);
  const analysis = renderAnalysis(state);
  const filters = renderFilters(state);
  el(ID.filters).setAttribute('aria-busy', 'false');
  state.post({
    type: 'rendered',
    state: {
      runId: run.runId,
      imageShown: loaded.image.naturalWidth > 0,
      tokenMaps: run.words.map((w) => w.word),
      mode: 'run',
      seeds: seeds.seeds,
      timelineSteps: timelineSteps(run),
      masks: analysis.masks,
      matrix: analysis.matrix,
      filter: state.shownFilter,
      ...(run.mapRecipe ? { recipe: run.mapRecipe } : {}),
      layerOptions: filters.layers.map((o) => o.label),
      headOptions: filters.heads.map((o) => o.label),
      verdict,
      seedStrip: seeds.labels,
    },
  });
}

/** What the step slider, the scale and the overlay change: the plot's marker, the chips and overlay, the word maps. */
export function redrawRun(state: ResultsState): void {
  renderStepPlot(state);
  renderRunChipsAndOverlay(state);
  renderGrid(state);
}

/** Each object's failure-score statistic over the sampling steps (when lost), the step slider's position marked. */
function renderStepPlot(state: ResultsState): void {
  const box = el(ID.stepPlot);
  const run = state.single?.run;
  box.hidden = !run?.failure;
  if (!run?.failure) return;
  const steps = run.failure.failure.series[0]?.values.length ?? run.steps;
  // Markup from stepPlot: numbers and escaped words only.
  el(ID.stepPlotSvg).innerHTML = stepPlot(run.failure, steps, state.position < steps ? state.position : undefined);
}

export function renderRunChipsAndOverlay(state: ResultsState): void {
  const { single, selected, position } = state;
  if (!single) return;
  const { run, image } = single;
  const steps = timelineSteps(run);
  const shown = state.overlay();
  renderChips(el(ID.chips), run.words, {
    selected,
    pressed: shown.mode !== 'image',
    ...(run.scores ? { activations: run.scores.activations } : {}),
    click: (i) => {
      // The selected word again switches the overlay off (image only) and back on.
      if (i === state.selected) {
        const off = state.overlay().mode !== 'image';
        state.save({ overlay: off ? 'image' : 'heat' });
        el<HTMLSelectElement>(ID.overlayMode).value = off ? 'image' : 'heat';
      }
      state.actions.select(i);
    },
    select: (i) => state.actions.select(i),
  });
  setupStep({ input: ID.step, label: ID.stepLabel, row: ID.stepRow }, position, steps, state.shownFilter.steps);
  const { map, h, w } = mapAt(single, selected, position);
  const max = scaleMax(state, single, map);
  drawImageWithOverlay(el<HTMLCanvasElement>(ID.overlay), image, map, h, w, max, shown);
  el(ID.legendWord).textContent = `${run.words[selected]?.word ?? ''}${steps > 0 && position < steps ? ` · ${stepLabel(position, steps)}` : ''}`;
  // Shares of the scale's maximum; the raw attention behind 1 is in the tooltip.
  const legend = el(ID.legend);
  legend.setAttribute(DATA.rawMax, String(max));
  const shared = state.saved.scale === 'shared';
  legend.title = `Colour = attention as a share of ${shared ? 'the largest word map\u2019s' : 'this map\u2019s'} peak; 1 = ${max.toFixed(4)} (raw attention probability${position >= steps ? ', summed over the layers, heads and steps' : ''})`;
  el(ID.legendRange).textContent = shown.mode === 'image' ? 'overlay off' : `0 … 1 of ${shared ? 'the largest peak' : 'its peak'}`;
}

function renderGrid(state: ResultsState): void {
  const { single } = state;
  if (!single) return;
  const { run } = single;
  const grid = el(ID.maps);
  grid.replaceChildren();
  run.words.forEach((word, i) => {
    const figure = document.createElement('figure');
    figure.className = `${CLASS.tokenMap}${word.isObject ? ' object' : ''}`;
    figure.setAttribute(DATA.word, word.word);
    figure.tabIndex = 0;
    figure.setAttribute('role', 'button');
    figure.setAttribute('aria-label', `show the attention of ${word.word}`);
    const canvas = document.createElement('canvas');
    const { map, h, w } = mapAt(single, i, state.position);
    drawHeat(canvas, map, h, w, scaleMax(state, single, map));
    const caption = document.createElement('figcaption');
    const activation = run.scores?.activations.find((a) => a.word === word.word);
    caption.textContent = activation ? `${word.word} · ${activation.value.toFixed(3)}` : word.word;
    figure.append(canvas, caption);
    // The main image changes: bring it into view when the layout put it off-screen (narrow panels).
    const show = (): void => {
      state.actions.select(i);
      const box = el(ID.overlay).getBoundingClientRect();
      if (box.bottom < 0 || box.top > window.innerHeight) el(ID.overlay).scrollIntoView({ block: 'nearest' });
    };
    figure.addEventListener('click', show);
    figure.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        show();
      }
    });
    grid.append(figure);
  });
}

function renderScores(loaded: LoadedRun): void {
  const { run } = loaded;
  const table = el(ID.scores);
  table.replaceChildren();
  const s = run.scores;
  el(ID.scoresSection).hidden = !s;
  if (!s) return;
  const row = (label: string, value: string, help: string): void => {
    const tr = document.createElement('tr');
    tr.title = help;
    const th = document.createElement('th');
    th.textContent = label;
    const td = document.createElement('td');
    td.textContent = value;
    tr.append(th, td);
    table.append(tr);
  };
  row('Overlap ↓', s.overlap.toFixed(3), SCORE_HELP.overlap);
  for (const a of s.activations) row(`Activation of ${a.word} ↑`, a.value.toFixed(3), SCORE_HELP.activation);
  row('Weakest object', s.weakest, SCORE_HELP.weakest);
  row('Enhance loss ↓', s.enhanceLoss.toFixed(3), SCORE_HELP.enhanceLoss);
  row('Loss ↓', s.totalLoss.toFixed(3), SCORE_HELP.totalLoss);
  for (const p of s.pairs) row(`${p.a} × ${p.b} ↓`, `IoU ${p.iou.toFixed(2)} · IoA ${p.ioaA.toFixed(2)} / ${p.ioaB.toFixed(2)}`, SCORE_HELP.pair);
  const d = run.detection;
  el(ID.detection).textContent = d ? `Detector: ${detectionSummary(d)} — ${d.objects.map((o) => `${o.object} ${STATUS_TEXT[o.status]}`).join(', ')}` : '';
  const overlap = new Float32Array(run.overlapMap);
  drawHeat(el<HTMLCanvasElement>(ID.overlapMap), overlap, run.mapHeight, run.mapWidth, mapMaxOf(overlap));
}
