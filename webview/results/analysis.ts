// Attention analysis of one run: each object's mask over the image (at the threshold slider's value) and
// the pairwise overlap matrix; the mask figures serve the before/after view too.
import { maskAreas, maskColour, overlapMatrix } from '../../src/shared/analysis';
import { maskOverlaps, upsampleMasks } from '../../src/shared/masks';
import type { ScoresView } from '../../src/shared/protocol';
import { CLASS, DATA, RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { drawMasks } from './canvas';
import { RECORDED_THRESHOLD, type LoadedRun, type ResultsState } from './state';

const ID = RESULTS_ID.run;

/** A run's object masks, when its record has them for every object. */
export function objectMasks(loaded: LoadedRun): Uint8Array | undefined {
  const s = loaded.run.scores;
  const size = loaded.run.mapHeight * loaded.run.mapWidth;
  return s && loaded.masks && loaded.masks.length === s.activations.length * size ? loaded.masks : undefined;
}

/**
 * Masks and pair scores at the threshold slider's value: the recorded ones at 0.4, else binarised again from the
 * run's object maps (as the engine does), so masks and IoU follow the slider.
 */
function thresholded(state: ResultsState, loaded: LoadedRun): { masks?: Uint8Array; scores?: ScoresView; threshold: number } {
  const s = loaded.run.scores;
  const maps = loaded.run.objectMaps;
  const threshold = state.saved.maskThreshold ?? RECORDED_THRESHOLD;
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

/** The label of the figure with every object's mask. */
export const ALL_OBJECTS = 'all objects';

/** Each object's mask over the image, then all together, into `grid`; returns the labels drawn. */
export function renderMaskFigures(grid: HTMLElement, loaded: LoadedRun, labelPrefix = '', masks = objectMasks(loaded)): string[] {
  const { run } = loaded;
  const words = run.scores?.activations.map((a) => a.word) ?? [];
  const drawn: string[] = [];
  const figure = (label: string, indices: number[]): void => {
    const f = document.createElement('figure');
    f.setAttribute(DATA.mask, label);
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
    if (words.length > 1) figure(ALL_OBJECTS, words.map((_, k) => k));
  } else {
    const note = document.createElement('p');
    note.className = 'muted';
    note.textContent = 'This run record has no object masks (made before they were saved).';
    grid.append(note);
  }
  return drawn;
}

/** The object masks (each alone, then all together) and the pairwise overlap matrix. */
export function renderAnalysis(state: ResultsState): { masks: string[]; matrix: string[] } {
  const grid = el(ID.masks);
  const table = el(ID.matrix);
  grid.replaceChildren();
  table.replaceChildren();
  const { single } = state;
  const run = single?.run;
  el(ID.analysis).hidden = !run?.scores || run.scores.activations.length === 0;
  if (!single || !run?.scores) return { masks: [], matrix: [] };
  const at = thresholded(state, single);
  const s = at.scores ?? run.scores;
  el(ID.maskThreshold).parentElement?.toggleAttribute('hidden', !run.objectMaps);
  el(ID.maskThresholdLabel).textContent = `each object's map above ${at.threshold.toFixed(2)} of its max${Math.abs(at.threshold - RECORDED_THRESHOLD) < 1e-9 ? ' (as scored)' : ''}`;
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
  corner.className = CLASS.corner;
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
