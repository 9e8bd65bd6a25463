// Results view: one run (the image with a selectable per-word attention overlay, the word maps, the
// scores, the per-pixel overlap, a step slider over the run's timeline) or a before/after view (base
// and finetuned images side by side and split by a slider, score deltas, detector verdicts, the loss
// curve). Browser code only; talks to the host through the protocol; keeps its state with setState.
import { maskOverlaps } from '../../src/shared/masks';
import type { CompareView, HostToWebview, MapFilter, ResultsWebviewState, RunView, ScoresView, ViewRef, WebviewToHost, WordView } from '../../src/shared/protocol';
import { filterFrom, headOptions, layerOptions, layerValue, maskAreas, maskColour, overlapMatrix, sameFilter, type FilterOption } from '../../src/shared/analysis';
import { detectionSummary, formatDelta, scoreDeltas, signed, STATUS_TEXT, stepLabel } from '../../src/shared/deltas';
import { helpFor, SCORE_HELP } from '../../src/shared/scoreHelp';
import { upsampleMasks } from '../../src/shared/masks';
import { stepPlot } from '../../src/shared/failureSection';
import { pairVerdict, runVerdict, seedsVerdict, type Verdict } from '../../src/shared/verdict';
import { drawCurve, drawHeat, drawImageWithOverlay, drawMasks, drawReveal, mapMaxOf, VIEW_SIDE, type OverlayMode } from './canvas';
import { el, type VsCodeApi } from './dom';

interface LoadedRun {
  run: RunView;
  image: HTMLImageElement;
  maps: Float32Array;
  timeline?: Float32Array;
  /** Uint8 `[K, mapHeight, mapWidth]` object masks. */
  masks?: Uint8Array;
}

interface Pair {
  before: LoadedRun;
  after: LoadedRun;
}

/** The threshold the run's masks and pair scores were recorded at. */
const RECORDED_THRESHOLD = 0.4;

export function startResults(vscode: VsCodeApi<ResultsWebviewState>): void {
  const post = (message: WebviewToHost): void => vscode.postMessage(message);
  let state: ResultsWebviewState = vscode.getState() ?? {};
  const save = (patch: Partial<ResultsWebviewState>): void => {
    state = { ...state, ...patch };
    vscode.setState(state);
  };

  let mode: 'run' | 'compare' | undefined;
  let single: LoadedRun | undefined;
  let compare: { view: CompareView; pairs: Pair[] } | undefined;
  let selected = 0;
  /** Step slider position: 0..steps-1 one step, steps = all steps (the aggregate maps). */
  let position = 0;
  let comparison = 0;
  let reveal = 0.5;
  let runningId: string | undefined;
  /** The folder of the run whose maps are being re-made with a filter (until its result or failure). */
  let filtering: string | undefined;
  /** The filter the shown run's maps were made with. */
  let shownFilter: MapFilter = {};
  /** Offscreen overlays of the before/after pair, reused while the reveal slider moves. */
  let pairCanvases: { before: HTMLCanvasElement; after: HTMLCanvasElement } | undefined;

  window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
    const message = event.data;
    switch (message.type) {
      case 'runStarted':
        runningId = message.runId;
        showStatus(`${message.kind === 'finetune' ? 'Finetuning' : message.kind === 'compare' ? 'Comparing' : 'Generating'} “${message.prompt}”…`, true);
        break;
      case 'progress':
        if (message.runId === runningId) showStatus(message.message ?? `Step ${message.step} of ${message.totalSteps}`, true);
        break;
      case 'result':
        runningId = undefined;
        showStatus('', false);
        for (const id of ['result', 'compare']) el(id).classList.remove('stale');
        void showRun(message.run);
        break;
      case 'compare':
        runningId = undefined;
        showStatus('', false);
        for (const id of ['result', 'compare']) el(id).classList.remove('stale');
        void showCompare(message.view);
        break;
      case 'runFailed': {
        runningId = undefined;
        const shown = mode !== undefined && filtering === undefined;
        endFiltering();
        // What is below is an older result: say so, and dim it, so it is not read as this run's.
        showStatus(`Run failed: ${message.message}${shown ? ' — the result below is the previous one' : ''}`, false, true);
        for (const id of ['result', 'compare']) el(id).classList.toggle('stale', shown);
        break;
      }
      case 'runCancelled':
        runningId = undefined;
        endFiltering();
        showStatus('Run cancelled.', false);
        break;
      case 'exportRequest':
        void exportPng();
        break;
    }
  });

  el('cancel').addEventListener('click', () => {
    if (runningId) post({ type: 'cancel', runId: runningId });
  });
  const revealFolder = (): void => {
    const folder = mode === 'run' ? single?.run.runFolder : compare?.view.folder;
    if (folder) post({ type: 'revealRunFolder', runId: mode === 'run' ? (single?.run.runId ?? '') : (compare?.view.id ?? ''), folder });
  };
  el('reveal').addEventListener('click', revealFolder);
  el('c-reveal').addEventListener('click', revealFolder);
  el('export').addEventListener('click', () => void exportPng());
  el('c-export').addEventListener('click', () => void exportPng());

  for (const id of ['step', 'c-step']) {
    el<HTMLInputElement>(id).addEventListener('input', (e) => {
      position = Number((e.target as HTMLInputElement).value);
      save({ step: position });
      redraw();
    });
  }
  for (const id of ['f-layer', 'f-head', 'f-from', 'f-to']) el(id).addEventListener('change', () => requestFilter(id === 'f-layer'));
  const overlayMode = el<HTMLSelectElement>('ov-mode');
  const overlayOpacity = el<HTMLInputElement>('ov-opacity');
  overlayMode.value = state.overlay ?? 'heat';
  overlayOpacity.value = String(Math.round(100 * (state.opacity ?? 0.75)));
  overlayMode.addEventListener('change', () => {
    save({ overlay: overlayMode.value as OverlayMode });
    redraw();
  });
  overlayOpacity.addEventListener('input', () => {
    save({ opacity: Number(overlayOpacity.value) / 100 });
    renderRunChipsAndOverlay();
  });
  const thresholdInput = el<HTMLInputElement>('mask-threshold');
  thresholdInput.value = String(Math.round(100 * (state.maskThreshold ?? RECORDED_THRESHOLD)));
  thresholdInput.addEventListener('input', () => {
    save({ maskThreshold: Number(thresholdInput.value) / 100 });
    renderAnalysis();
  });
  /** The overlay as chosen; 'image' once the selected word's chip was clicked again. */
  const overlay = (): { mode: OverlayMode; opacity: number } => ({ mode: state.overlay ?? 'heat', opacity: state.opacity ?? 0.75 });
  el<HTMLSelectElement>('f-scale').addEventListener('change', (e) => {
    save({ scale: (e.target as HTMLSelectElement).value === 'shared' ? 'shared' : 'map' });
    redraw();
  });
  el<HTMLSelectElement>('c-which').addEventListener('change', (e) => {
    comparison = Number((e.target as HTMLSelectElement).value);
    save({ comparison, ref: compareRef() });
    renderCompare();
  });
  const revealSlider = el<HTMLInputElement>('c-reveal-slider');
  revealSlider.addEventListener('input', () => setReveal(Number(revealSlider.value) / 100));
  // Drag on the picture itself moves the split too.
  const revealCanvas = el<HTMLCanvasElement>('c-reveal-canvas');
  let dragging = false;
  const dragTo = (e: PointerEvent): void => {
    const box = revealCanvas.getBoundingClientRect();
    setReveal((e.clientX - box.left) / box.width);
  };
  revealCanvas.addEventListener('pointerdown', (e) => {
    dragging = true;
    revealCanvas.setPointerCapture(e.pointerId);
    dragTo(e);
  });
  revealCanvas.addEventListener('pointermove', (e) => {
    if (dragging) dragTo(e);
  });
  revealCanvas.addEventListener('pointerup', () => {
    dragging = false;
  });

  function setReveal(fraction: number): void {
    reveal = Math.min(1, Math.max(0, fraction));
    revealSlider.value = String(Math.round(reveal * 100));
    save({ reveal });
    drawRevealCanvas();
  }

  function showStatus(text: string, busy: boolean, isError = false): void {
    const status = el('status');
    status.hidden = !text;
    status.classList.toggle('error', isError);
    el('status-text').textContent = text;
    el('busy').hidden = !busy;
    el('cancel').hidden = !busy;
  }

  async function load(run: RunView): Promise<LoadedRun> {
    const image = new Image();
    image.src = URL.createObjectURL(new Blob([run.imagePng], { type: 'image/png' }));
    await image.decode();
    return {
      run,
      image,
      maps: new Float32Array(run.wordMaps),
      ...(run.timeline ? { timeline: new Float32Array(run.timeline.data) } : {}),
      ...(run.masks ? { masks: new Uint8Array(run.masks) } : {}),
    };
  }

  /** Restores the saved word/step when the view is the one the state was saved for. */
  function restoreFor(ref: ViewRef, words: WordView[], steps: number): void {
    const same = state.ref?.kind === ref.kind && state.ref.folder === ref.folder;
    const byName = same && state.selectedWord !== undefined ? words.findIndex((w) => w.word === state.selectedWord) : -1;
    const firstObject = words.findIndex((w) => w.isObject);
    selected = byName >= 0 ? byName : Math.max(0, firstObject);
    position = same && state.step !== undefined ? Math.min(state.step, steps) : steps;
    reveal = same && state.reveal !== undefined ? state.reveal : 0.5;
    save({ ref, selectedWord: words[selected]?.word, step: position, reveal });
  }

  function timelineSteps(run: RunView): number {
    return run.timeline?.steps ?? 0;
  }

  /** The map of word `index` at the slider's position: one step of the timeline, or the aggregate. */
  function mapAt(loaded: LoadedRun, index: number): { map: Float32Array; h: number; w: number } {
    const { run } = loaded;
    const t = run.timeline;
    if (t && loaded.timeline && position < t.steps) {
      const size = t.height * t.width;
      const at = (position * run.words.length + index) * size;
      return { map: loaded.timeline.subarray(at, at + size), h: t.height, w: t.width };
    }
    const size = run.mapHeight * run.mapWidth;
    return { map: loaded.maps.subarray(index * size, (index + 1) * size), h: run.mapHeight, w: run.mapWidth };
  }

  function setupStep(inputId: string, labelId: string, rowId: string, steps: number, range?: { from: number; to: number }): void {
    const input = el<HTMLInputElement>(inputId);
    el(rowId).hidden = steps === 0;
    input.max = String(steps);
    input.value = String(position);
    input.setAttribute('aria-valuetext', stepLabel(position, steps, range));
    el(labelId).textContent = steps > 0 ? stepLabel(position, steps, range) : '';
  }

  /** The verdict line: the run's (or the pair's) findings, and a seed list's summary above them. */
  function showVerdict(id: string, verdict: Verdict, seeds?: Verdict): string {
    const box = el(id);
    box.replaceChildren();
    const tone = seeds && seeds.tone === 'fail' ? 'fail' : verdict.tone;
    box.className = `verdict-line ${tone}`;
    const lines: string[] = [];
    for (const [v, prefix] of [
      [seeds, 'Seeds: '],
      [verdict, seeds ? 'This seed: ' : ''],
    ] as const) {
      if (!v) continue;
      const p = document.createElement('p');
      const strong = document.createElement('strong');
      strong.textContent = `${prefix}${v.lines[0]}`;
      p.append(strong);
      if (v.lines.length > 1) p.append(document.createTextNode(` · ${v.lines.slice(1).join(' · ')}`));
      box.append(p);
      lines.push(`${prefix}${v.lines.join(' · ')}`);
    }
    return lines.join('\n');
  }

  function renderChips(containerId: string, words: WordView[], activations?: { word: string; value: number }[]): void {
    const chips = el(containerId);
    chips.replaceChildren();
    words.forEach((word, i) => {
      const chip = document.createElement('button');
      chip.className = `chip${word.isObject ? ' object' : ''}${word.isSpecial ? ' special' : ''}`;
      chip.textContent = word.word;
      const activation = activations?.find((a) => a.word === word.word);
      chip.title = `tokens ${word.tokenIndices.join(', ')}${activation ? ` · activation ${activation.value.toFixed(3)}` : ''}`;
      chip.setAttribute('aria-pressed', String(i === selected && overlay().mode !== 'image'));
      chip.tabIndex = i === selected ? 0 : -1;
      chip.addEventListener('click', () => {
        // The selected word again switches the overlay off (image only) and back on.
        if (i === selected && mode === 'run') {
          const off = overlay().mode !== 'image';
          save({ overlay: off ? 'image' : 'heat' });
          overlayMode.value = off ? 'image' : 'heat';
        }
        select(i);
      });
      chip.addEventListener('keydown', (e) => {
        const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? words.length - 1 : -2;
        if (next === -2) return;
        e.preventDefault();
        const target = Math.min(words.length - 1, Math.max(0, next));
        select(target);
        (chips.children[target] as HTMLElement | undefined)?.focus();
      });
      chips.append(chip);
    });
  }

  function select(i: number): void {
    selected = i;
    const words = mode === 'run' ? single?.run.words : compare?.pairs[comparison]?.before.run.words;
    save({ selectedWord: words?.[i]?.word });
    // The chips are drawn again: keep the keyboard focus on the chip the user pressed.
    const chipsId = mode === 'run' ? 'chips' : 'c-chips';
    const hadFocus = el(chipsId).contains(document.activeElement);
    if (mode === 'run') renderRunChipsAndOverlay();
    else renderCompareWords();
    if (hadFocus) (el(chipsId).children[i] as HTMLElement | undefined)?.focus();
  }

  function redraw(): void {
    if (mode === 'run') {
      renderStepPlot();
      renderRunChipsAndOverlay();
      renderGrid();
    } else if (mode === 'compare') renderCompareWords();
  }

  // ----- one run -----

  /** Each object's failure-score statistic over the sampling steps (when lost), the step slider's position marked. */
  function renderStepPlot(): void {
    const box = el('step-plot');
    const run = single?.run;
    box.hidden = !run?.failure;
    if (!run?.failure) return;
    const steps = run.failure.failure.series[0]?.values.length ?? run.steps;
    // Markup from stepPlot: numbers and escaped words only.
    el('step-plot-svg').innerHTML = stepPlot(run.failure, steps, position < steps ? position : undefined);
  }

  async function showRun(run: RunView): Promise<void> {
    const loaded = await load(run);
    // A filter's view of the shown run keeps the scroll position; another run starts at the top.
    const refiltered = filtering !== undefined && filtering === run.runFolder && single?.run.runFolder === run.runFolder;
    if (!refiltered && (mode !== 'run' || single?.run.runFolder !== run.runFolder)) window.scrollTo(0, 0);
    const keepWord = refiltered ? single?.run.words[selected]?.word : undefined;
    filtering = undefined;
    single = loaded;
    compare = undefined;
    mode = 'run';
    if (refiltered) {
      // The same run with other maps: keep the word; the slider goes to all steps (the filter applies there).
      save({ ref: { kind: 'run', folder: run.runFolder }, selectedWord: keepWord, step: timelineSteps(run) });
    }
    const sameRef = state.ref?.kind === 'run' && state.ref.folder === run.runFolder;
    shownFilter = run.filter ?? (sameRef && state.filter ? state.filter : {});
    restoreFor({ kind: 'run', folder: run.runFolder }, run.words, timelineSteps(run));
    save({ filter: shownFilter });
    el('empty').hidden = true;
    el('compare').hidden = true;
    el('result').hidden = false;
    el('prompt').textContent = run.prompt;
    el('meta').textContent = `${run.model} · ${run.provider} · seed ${run.seed} · ${run.steps} steps · ${Math.round(run.totalMs)} ms`;
    const seeds = renderSeedRuns(run);
    const verdict = showVerdict('verdict', runVerdict({ ...(run.detection ? { detection: run.detection } : {}), ...(run.scores ? { scores: run.scores } : {}), ...(run.failure ? { failure: run.failure } : {}) }), run.seedRuns && run.seedRuns.length > 1 ? seedsVerdict(run.seedRuns) : undefined);
    renderStepPlot();
    renderRunChipsAndOverlay();
    renderGrid();
    renderScores();
    const analysis = renderAnalysis();
    const filters = renderFilters();
    el('filters').setAttribute('aria-busy', 'false');
    post({
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
        filter: shownFilter,
        ...(run.mapRecipe ? { recipe: run.mapRecipe } : {}),
        layerOptions: filters.layers.map((o) => o.label),
        headOptions: filters.heads.map((o) => o.label),
        verdict,
        seedStrip: seeds.labels,
      },
    });
  }

  function renderRunChipsAndOverlay(): void {
    if (!single) return;
    const { run, image } = single;
    const steps = timelineSteps(run);
    renderChips('chips', run.words, run.scores?.activations);
    setupStep('step', 'step-label', 'step-row', steps, shownFilter.steps);
    const { map, h, w } = mapAt(single, selected);
    const max = scaleMax(single, map);
    const shown = overlay();
    drawImageWithOverlay(el<HTMLCanvasElement>('overlay'), image, map, h, w, max, shown);
    el('legend-word').textContent = `${run.words[selected]?.word ?? ''}${steps > 0 && position < steps ? ` · ${stepLabel(position, steps)}` : ''}`;
    // Shares of the scale's maximum; the raw attention behind 1 is in the tooltip.
    const legend = el('legend');
    legend.dataset.rawMax = String(max);
    legend.title = `Colour = attention as a share of ${state.scale === 'shared' ? 'the largest word map\u2019s' : 'this map\u2019s'} peak; 1 = ${max.toFixed(4)} (raw attention probability${position >= steps ? ', summed over the layers, heads and steps' : ''})`;
    el('legend-range').textContent = shown.mode === 'image' ? 'overlay off' : `0 … 1 of ${state.scale === 'shared' ? 'the largest peak' : 'its peak'}`;
  }

  function renderGrid(): void {
    if (!single) return;
    const { run } = single;
    const grid = el('maps');
    grid.replaceChildren();
    run.words.forEach((word, i) => {
      const figure = document.createElement('figure');
      figure.className = `token-map${word.isObject ? ' object' : ''}`;
      figure.dataset.word = word.word;
      figure.tabIndex = 0;
      figure.setAttribute('role', 'button');
      figure.setAttribute('aria-label', `show the attention of ${word.word}`);
      const canvas = document.createElement('canvas');
      const { map, h, w } = mapAt(single as LoadedRun, i);
      drawHeat(canvas, map, h, w, scaleMax(single as LoadedRun, map));
      const caption = document.createElement('figcaption');
      const activation = run.scores?.activations.find((a) => a.word === word.word);
      caption.textContent = activation ? `${word.word} · ${activation.value.toFixed(3)}` : word.word;
      figure.append(canvas, caption);
      // The main image changes: bring it into view when the layout put it off-screen (narrow panels).
      const show = (): void => {
        select(i);
        const box = el('overlay').getBoundingClientRect();
        if (box.bottom < 0 || box.top > window.innerHeight) el('overlay').scrollIntoView({ block: 'nearest' });
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

  function renderScores(): void {
    if (!single) return;
    const { run } = single;
    const table = el('scores');
    table.replaceChildren();
    const s = run.scores;
    el('scores-section').hidden = !s;
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
    el('detection').textContent = d ? `Detector: ${detectionSummary(d)} — ${d.objects.map((o) => `${o.object} ${STATUS_TEXT[o.status]}`).join(', ')}` : '';
    const overlap = new Float32Array(run.overlapMap);
    drawHeat(el<HTMLCanvasElement>('overlap-map'), overlap, run.mapHeight, run.mapWidth, mapMaxOf(overlap));
  }

  /** The maximum a map is scaled by: its own, or (shared) the largest of the prompt words' maps. */
  function scaleMax(loaded: LoadedRun, map: Float32Array): number {
    if (state.scale !== 'shared') return mapMaxOf(map);
    let max = 0;
    const words = loaded.run.words;
    const plain = words.some((w) => !w.isSpecial);
    words.forEach((w, i) => {
      // <start> soaks up most attention: sharing its scale would darken every word.
      if (plain && w.isSpecial) return;
      max = Math.max(max, mapMaxOf(mapAt(loaded, i).map));
    });
    return max;
  }

  /** The seed strip of a Generate of several seeds: a thumbnail per seed with the detector's ✓/✗; a click shows that seed. */
  function renderSeedRuns(run: RunView): { seeds: number[]; labels: string[] } {
    const runs = run.seedRuns ?? [];
    const strip = el('seed-strip');
    strip.replaceChildren();
    strip.hidden = runs.length < 2;
    const labels: string[] = [];
    for (const r of runs) {
      const button = document.createElement('button');
      button.className = 'seed';
      const mark = r.detection ? (r.detection.success ? '✓' : '✗') : '';
      const label = `seed ${r.seed}${mark ? ` ${mark}` : ''}`;
      button.setAttribute('aria-pressed', String(r.runFolder === run.runFolder));
      button.title = r.detection ? `seed ${r.seed}: ${detectionSummary(r.detection)}` : `seed ${r.seed}`;
      if (r.detection) button.classList.add(r.detection.success ? 'ok' : 'fail');
      if (r.imagePng) {
        const img = document.createElement('img');
        img.alt = '';
        img.src = URL.createObjectURL(new Blob([r.imagePng], { type: 'image/png' }));
        button.append(img);
      }
      const text = document.createElement('span');
      text.textContent = label;
      button.append(text);
      button.addEventListener('click', () => {
        if (r.runFolder !== single?.run.runFolder) post({ type: 'openSeedRun', runFolder: r.runFolder });
      });
      strip.append(button);
      labels.push(label);
    }
    return { seeds: runs.map((r) => r.seed), labels };
  }

  /** A run's object masks, when its record has them for every object. */
  function objectMasks(loaded: LoadedRun): Uint8Array | undefined {
    const s = loaded.run.scores;
    const size = loaded.run.mapHeight * loaded.run.mapWidth;
    return s && loaded.masks && loaded.masks.length === s.activations.length * size ? loaded.masks : undefined;
  }

  /**
   * Masks and pair scores at the threshold slider's value: the recorded ones at 0.4, else binarised again from the
   * run's object maps (as the engine does), so masks and IoU follow the slider.
   */
  function thresholded(loaded: LoadedRun): { masks?: Uint8Array; scores?: ScoresView; threshold: number } {
    const s = loaded.run.scores;
    const maps = loaded.run.objectMaps;
    const threshold = state.maskThreshold ?? RECORDED_THRESHOLD;
    if (!s || !maps || Math.abs(threshold - RECORDED_THRESHOLD) < 1e-9) return { masks: objectMasks(loaded), ...(s ? { scores: s } : {}), threshold: RECORDED_THRESHOLD };
    const count = s.activations.length;
    const found = maskOverlaps({ height: maps.height, width: maps.width, count, data: new Float32Array(maps.data) }, { threshold });
    const words = s.activations.map((a) => a.word);
    return {
      masks: upsampleMasks(found.masks, count, maps.height, maps.width, loaded.run.mapHeight, loaded.run.mapWidth),
      scores: { ...s, pairs: found.pairs.map((p) => ({ a: words[p.a], b: words[p.b], iou: p.iou, ioaA: p.ioaA, ioaB: p.ioaB })) },
      threshold,
    };
  }

  /** Each object's mask over the image, then all together, into `grid`; returns the labels drawn. */
  function renderMaskFigures(grid: HTMLElement, loaded: LoadedRun, labelPrefix = '', masks = objectMasks(loaded)): string[] {
    const { run } = loaded;
    const words = run.scores?.activations.map((a) => a.word) ?? [];
    const drawn: string[] = [];
    const figure = (label: string, indices: number[]): void => {
      const f = document.createElement('figure');
      f.dataset.mask = label;
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${labelPrefix}mask of ${label} over the image`);
      drawMasks(canvas, loaded.image, masks, indices, run.mapHeight, run.mapWidth, indices.map(maskColour));
      const caption = document.createElement('figcaption');
      for (const k of indices) {
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = maskColour(k);
        caption.append(swatch);
      }
      caption.append(document.createTextNode(label));
      f.append(canvas, caption);
      grid.append(f);
      drawn.push(label);
    };
    if (masks) {
      words.forEach((word, k) => figure(word, [k]));
      if (words.length > 1) figure('all objects', words.map((_, k) => k));
    } else {
      const note = document.createElement('p');
      note.className = 'muted';
      note.textContent = 'This run record has no object masks (made before they were saved).';
      grid.append(note);
    }
    return drawn;
  }

  /** The object masks (each alone, then all together) and the pairwise overlap matrix. */
  function renderAnalysis(): { masks: string[]; matrix: string[] } {
    const grid = el('masks');
    const table = el('matrix');
    grid.replaceChildren();
    table.replaceChildren();
    const run = single?.run;
    el('analysis').hidden = !run?.scores || run.scores.activations.length === 0;
    if (!single || !run?.scores) return { masks: [], matrix: [] };
    const at = thresholded(single);
    const s = at.scores ?? run.scores;
    el('mask-threshold').parentElement?.toggleAttribute('hidden', !run.objectMaps);
    el('mask-threshold-label').textContent = `each object's map above ${at.threshold.toFixed(2)} of its max${Math.abs(at.threshold - RECORDED_THRESHOLD) < 1e-9 ? ' (as scored)' : ''}`;
    const words = s.activations.map((a) => a.word);
    const size = run.mapHeight * run.mapWidth;
    const masks = at.masks;
    const drawn = renderMaskFigures(grid, single, '', masks);
    // The matrix: a real table, header row and header column, one colour-scaled cell per pair.
    const { cells } = overlapMatrix(s, masks ? maskAreas(masks, words.length, size) : undefined);
    const caption = document.createElement('caption');
    caption.className = 'muted small';
    caption.textContent = 'Mask overlap of each pair of objects';
    table.append(caption);
    const head = document.createElement('tr');
    const corner = document.createElement('td');
    corner.className = 'corner';
    head.append(corner);
    words.forEach((word, k) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = word;
      th.style.borderBottom = `3px solid ${maskColour(k)}`;
      head.append(th);
    });
    table.append(head);
    const read: string[] = [];
    cells.forEach((row, i) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = words[i];
      th.style.borderLeft = `3px solid ${maskColour(i)}`;
      tr.append(th);
      row.forEach((cell) => {
        const td = document.createElement('td');
        td.className = cell.kind;
        const v = cell.value;
        td.textContent = v === undefined || !Number.isFinite(v) ? '—' : cell.kind === 'area' ? `${(100 * v).toFixed(0)}%` : v.toFixed(2);
        td.title = cell.label;
        if (cell.kind !== 'area' && v !== undefined && Number.isFinite(v)) {
          td.style.background = `color-mix(in srgb, var(--vscode-charts-orange, #d18616) ${Math.round(100 * Math.min(1, Math.max(0, v)))}%, transparent)`;
        }
        tr.append(td);
        read.push(cell.label);
      });
      table.append(tr);
    });
    return { masks: drawn, matrix: read };
  }

  /** The layer, head and step filters, set to the shown run's filter. */
  function renderFilters(): { layers: FilterOption[]; heads: FilterOption[] } {
    const run = single?.run;
    const layers = run?.layers ?? [];
    el('filters').hidden = layers.length === 0;
    const scale = el<HTMLSelectElement>('f-scale');
    scale.value = state.scale ?? 'map';
    const recipe = run?.mapRecipe ?? '';
    el('recipe').textContent = layers.length === 0 ? `${recipe}${recipe ? ' · ' : ''}this run record does not list its layers, so the maps cannot be filtered` : `${recipe}. Single steps of the step slider show every layer and head.`;
    if (!run || layers.length === 0) return { layers: [], heads: [] };
    const layerList = layerOptions(layers);
    const headList = headOptions(layers, shownFilter);
    fillSelect(el<HTMLSelectElement>('f-layer'), layerList, layerValue(shownFilter));
    fillSelect(el<HTMLSelectElement>('f-head'), headList, shownFilter.head !== undefined ? String(shownFilter.head) : '');
    for (const [id, value] of [
      ['f-from', (shownFilter.steps?.from ?? 0) + 1],
      ['f-to', (shownFilter.steps?.to ?? run.steps - 1) + 1],
    ] as const) {
      const input = el<HTMLInputElement>(id);
      input.max = String(run.steps);
      input.value = String(value);
    }
    return { layers: layerList, heads: headList };
  }

  function fillSelect(select: HTMLSelectElement, options: FilterOption[], value: string): void {
    select.replaceChildren();
    const groups = new Map<string, HTMLOptGroupElement>();
    for (const o of options) {
      const option = document.createElement('option');
      option.value = o.value;
      option.textContent = o.label;
      let parent: HTMLElement = select;
      if (o.group) {
        let group = groups.get(o.group);
        if (!group) {
          group = document.createElement('optgroup');
          group.label = o.group;
          groups.set(o.group, group);
          select.append(group);
        }
        parent = group;
      }
      parent.append(option);
    }
    select.value = options.some((o) => o.value === value) ? value : '';
  }

  /** Asks the host to make the maps again with the filters' layers, heads and steps. */
  function requestFilter(layerChanged: boolean): void {
    if (!single) return;
    const { run } = single;
    let head = el<HTMLSelectElement>('f-head').value;
    const layer = el<HTMLSelectElement>('f-layer').value;
    if (layerChanged && head !== '') {
      // A head the newly chosen layers do not all have would only fail: back to all heads.
      const probe = filterFrom(layer, '', 1, run.steps, run.steps);
      if (!headOptions(run.layers ?? [], probe).some((o) => o.value === head)) head = '';
    }
    const filter = filterFrom(layer, head, Number(el<HTMLInputElement>('f-from').value), Number(el<HTMLInputElement>('f-to').value), run.steps);
    if (sameFilter(filter, shownFilter) && !filtering) return;
    filtering = run.runFolder;
    el('filters').setAttribute('aria-busy', 'true');
    post({ type: 'filterMaps', runFolder: run.runFolder, filter });
  }

  /** A filter re-run ended without a result: the controls show the shown maps' filter again. */
  function endFiltering(): void {
    if (filtering === undefined) return;
    filtering = undefined;
    el('filters').setAttribute('aria-busy', 'false');
    if (mode === 'run') renderFilters();
  }

  // ----- before/after -----

  function compareRef(): ViewRef | undefined {
    return compare ? { kind: 'compare', folder: compare.view.folder, initial: comparison } : undefined;
  }

  async function showCompare(view: CompareView): Promise<void> {
    const pairs: Pair[] = [];
    for (const c of view.comparisons) pairs.push({ before: await load(c.before), after: await load(c.after) });
    if (mode !== 'compare' || compare?.view.folder !== view.folder) window.scrollTo(0, 0);
    compare = { view, pairs };
    single = undefined;
    mode = 'compare';
    const ref: ViewRef = { kind: 'compare', folder: view.folder };
    const same = state.ref?.kind === 'compare' && state.ref.folder === view.folder;
    comparison = same && state.comparison !== undefined && state.comparison < pairs.length ? state.comparison : view.initial;
    const first = pairs[comparison]?.before.run;
    restoreFor({ ...ref, initial: comparison }, first?.words ?? [], first ? timelineSteps(first) : 0);
    save({ comparison });
    el('empty').hidden = true;
    el('result').hidden = true;
    el('compare').hidden = false;
    el('c-title').textContent = view.title;
    el('c-title').title = view.titleTooltip;
    const which = el<HTMLSelectElement>('c-which');
    which.replaceChildren(
      ...view.comparisons.map((c, i) => {
        const option = document.createElement('option');
        option.value = String(i);
        option.textContent = `${c.prompt} · seed ${c.seed}${c.group !== 'compare' ? ` (${c.group})` : ''}`;
        return option;
      }),
    );
    which.hidden = view.comparisons.length < 2;
    el('c-which-label').hidden = which.hidden;
    const curve = view.curve ?? [];
    el('c-curve-section').hidden = curve.length === 0;
    if (curve.length > 0) {
      const styles = getComputedStyle(document.body);
      drawCurve(el<HTMLCanvasElement>('c-curve'), curve, styles.getPropertyValue('--vscode-charts-blue') || styles.color, styles.getPropertyValue('--vscode-panel-border') || styles.color, styles.color);
      el('c-curve-label').textContent = `loss ${curve[0].toFixed(4)} → ${curve[curve.length - 1].toFixed(4)} in ${curve.length} steps`;
    }
    renderCompare();
  }

  function renderCompare(): void {
    if (!compare) return;
    const pair = compare.pairs[comparison];
    if (!pair) return;
    el<HTMLSelectElement>('c-which').value = String(comparison);
    const { before, after } = pair;
    el('c-meta').textContent = `${before.run.prompt} · ${before.run.model} · ${before.run.provider} · seed ${before.run.seed} · ${before.run.steps} steps`;
    const steps = timelineSteps(before.run);
    if (position > steps) position = steps;
    renderCompareWords();
    // Scores with deltas.
    const deltas = scoreDeltas(before.run.scores, after.run.scores);
    const table = el('c-scores');
    table.replaceChildren(headRow(['', 'base', 'finetuned', 'Δ']));
    for (const d of deltas) {
      const tr = document.createElement('tr');
      tr.className = d.verdict;
      tr.title = helpFor(d.label) || `${d.higherIsBetter ? 'higher' : 'lower'} is better`;
      const delta = document.createElement('td');
      delta.className = `delta ${d.verdict}`;
      delta.textContent = `${signed(d.delta)} ${d.verdict === 'better' ? '▲ better' : d.verdict === 'worse' ? '▼ worse' : '='}`;
      tr.append(cell('th', `${d.label} ${d.higherIsBetter ? '↑' : '↓'}`), cell('td', d.before.toFixed(3)), cell('td', d.after.toFixed(3)), delta);
      table.append(tr);
    }
    const same = (x: ArrayBuffer, y: ArrayBuffer): boolean => x.byteLength === y.byteLength && new Uint8Array(x).every((v, i) => v === new Uint8Array(y)[i]);
    const input = (run: RunView) => ({ ...(run.detection ? { detection: run.detection } : {}), ...(run.scores ? { scores: run.scores } : {}), ...(run.failure ? { failure: run.failure } : {}) });
    const verdict = showVerdict(
      'c-verdict',
      pairVerdict({ before: input(before.run), after: input(after.run), identicalImages: same(before.run.imagePng, after.run.imagePng), scoresUnchanged: deltas.every((d) => d.verdict === 'same') }),
    );
    // Detector verdicts.
    const detect = el('c-detect');
    detect.replaceChildren(headRow(['', 'base', 'finetuned']));
    const bd = before.run.detection;
    const ad = after.run.detection;
    el('c-before-verdict').textContent = bd ? detectionSummary(bd) : '';
    el('c-after-verdict').textContent = ad ? detectionSummary(ad) : '';
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
    // Object masks before and after: did the finetune pull the objects' maps apart?
    const maskRows: Record<'before' | 'after', string[]> = { before: [], after: [] };
    for (const [side, loaded] of [['before', before], ['after', after]] as const) {
      const grid = el(`c-masks-${side}`);
      grid.replaceChildren();
      maskRows[side] = renderMaskFigures(grid, loaded, side === 'before' ? 'base: ' : 'finetuned: ');
    }
    el('c-masks-section').hidden = !before.run.scores || before.run.scores.activations.length === 0;
    for (const [id, run] of [['c-overlap-before', before.run], ['c-overlap-after', after.run]] as const) {
      const overlap = new Float32Array(run.overlapMap);
      drawHeat(el<HTMLCanvasElement>(id), overlap, run.mapHeight, run.mapWidth, Math.max(mapMaxOf(new Float32Array(before.run.overlapMap)), mapMaxOf(new Float32Array(after.run.overlapMap))));
    }
    post({
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

  /** Chips, step slider and the two overlays (same word, same step, one colour scale for both). */
  function renderCompareWords(): void {
    if (!compare) return;
    const pair = compare.pairs[comparison];
    if (!pair) return;
    const { before, after } = pair;
    const steps = timelineSteps(before.run);
    renderChips('c-chips', before.run.words, after.run.scores?.activations);
    setupStep('c-step', 'c-step-label', 'c-step-row', steps);
    const b = mapAt(before, selected);
    const a = mapAt(after, Math.min(selected, after.run.words.length - 1));
    const max = Math.max(mapMaxOf(b.map), mapMaxOf(a.map));
    pairCanvases = {
      before: drawImageWithOverlay(el<HTMLCanvasElement>('c-before'), before.image, b.map, b.h, b.w, max),
      after: drawImageWithOverlay(el<HTMLCanvasElement>('c-after'), after.image, a.map, a.h, a.w, max),
    };
    drawRevealCanvas();
  }

  function drawRevealCanvas(): void {
    if (!pairCanvases) return;
    const styles = getComputedStyle(document.body);
    drawReveal(el<HTMLCanvasElement>('c-reveal-canvas'), pairCanvases.before, pairCanvases.after, reveal, styles.getPropertyValue('--vscode-focusBorder') || '#fff');
    el<HTMLInputElement>('c-reveal-slider').value = String(Math.round(reveal * 100));
  }

  function cell(tag: 'th' | 'td', text: string, className?: string): HTMLElement {
    const c = document.createElement(tag);
    c.textContent = text;
    if (className) c.className = className;
    return c;
  }

  function headRow(labels: string[]): HTMLTableRowElement {
    const tr = document.createElement('tr');
    for (const label of labels) {
      const th = document.createElement('th');
      th.textContent = label;
      th.scope = 'col';
      tr.append(th);
    }
    return tr;
  }

  // ----- export -----

  /** The mask grid's combined figure (or its only object's) for the PNG export, when the view drew one. */
  function maskPicture(gridId: string, label: string): { canvas: HTMLCanvasElement; label: string }[] {
    const figures = [...el(gridId).querySelectorAll<HTMLElement>('figure')];
    const figure = figures.find((f) => f.dataset.mask === 'all objects') ?? (figures.length === 1 ? figures[0] : undefined);
    const canvas = figure?.querySelector('canvas');
    return canvas ? [{ canvas, label }] : [];
  }

  async function exportPng(): Promise<void> {
    const styles = getComputedStyle(document.body);
    const fg = styles.color || '#000';
    const bg = styles.getPropertyValue('--vscode-editor-background').trim() || '#fff';
    const font = `13px ${styles.getPropertyValue('--vscode-font-family') || 'sans-serif'}`;
    const out = document.createElement('canvas');
    const pad = 16;
    let lines: string[];
    let pictures: { canvas: HTMLCanvasElement; label: string }[];
    let name: string;
    let folder: string | undefined;
    if (mode === 'run' && single) {
      const { run } = single;
      const overlap = el<HTMLCanvasElement>('overlap-map');
      pictures = [
        { canvas: el<HTMLCanvasElement>('overlay'), label: el('legend-word').textContent ?? '' },
        { canvas: overlap, label: 'per-pixel overlap' },
        ...maskPicture('masks', 'object masks'),
      ];
      lines = [run.prompt, el('meta').textContent ?? ''];
      if (run.scores) {
        lines.push(`overlap ${run.scores.overlap.toFixed(3)} · ${run.scores.activations.map((a) => `${a.word} ${a.value.toFixed(3)}`).join(' · ')}`);
        if (run.scores.pairs.length > 0) lines.push(run.scores.pairs.map((p) => `${p.a} × ${p.b} mask IoU ${p.iou.toFixed(2)}`).join(' · '));
      }
      name = `${run.runId}`;
      folder = run.runFolder;
    } else if (mode === 'compare' && compare) {
      const pair = compare.pairs[comparison];
      pictures = [
        { canvas: el<HTMLCanvasElement>('c-before'), label: `base · ${detectionSummary(pair?.before.run.detection)}` },
        { canvas: el<HTMLCanvasElement>('c-after'), label: `finetuned · ${detectionSummary(pair?.after.run.detection)}` },
        ...maskPicture('c-masks-before', 'base object masks'),
        ...maskPicture('c-masks-after', 'finetuned object masks'),
      ];
      lines = [compare.view.title, el('c-meta').textContent ?? '', ...scoreDeltas(pair?.before.run.scores, pair?.after.run.scores).map(formatDelta)];
      name = `${compare.view.id}-${comparison + 1}`;
      folder = compare.view.folder;
    } else return;
    const lineHeight = 18;
    out.width = pad + pictures.length * (VIEW_SIDE + pad);
    out.height = pad + 2 * lineHeight + VIEW_SIDE + lineHeight + pad + (lines.length - 2) * lineHeight + pad;
    const ctx = out.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = fg;
    ctx.font = `600 ${font}`;
    ctx.fillText(lines[0], pad, pad + 12);
    ctx.font = font;
    ctx.fillText(lines[1], pad, pad + 12 + lineHeight);
    const top = pad + 2 * lineHeight + 4;
    pictures.forEach((p, i) => {
      const x = pad + i * (VIEW_SIDE + pad);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(p.canvas, x, top, VIEW_SIDE, Math.round((VIEW_SIDE * p.canvas.height) / Math.max(1, p.canvas.width)));
      ctx.fillText(p.label, x, top + VIEW_SIDE + 14);
    });
    lines.slice(2).forEach((line, i) => ctx.fillText(line, pad, top + VIEW_SIDE + lineHeight + pad + i * lineHeight));
    const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
    if (!blob) return;
    post({ type: 'exportPng', png: await blob.arrayBuffer(), name, ...(folder ? { folder } : {}) });
  }

  post({ type: 'ready', ...(state.ref ? { restore: state.ref } : {}) });
}
