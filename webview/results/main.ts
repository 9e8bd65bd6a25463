// Results view: the generated image with a selectable per-word attention overlay, the word maps,
// the scores and the per-pixel overlap. Browser code only; talks to the host through the protocol.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeProgressRing,
  vsCodeTag,
} from '@vscode/webview-ui-toolkit';
import type { HostToWebview, RunView, WebviewToHost } from '../../src/protocol/messages';
import { drawHeat, drawImageWithOverlay, mapMaxOf } from './canvas';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDivider(), vsCodeProgressRing(), vsCodeTag());

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  setState(state: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (message: WebviewToHost): void => vscode.postMessage(message);

const el = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
};

let current: { run: RunView; image: HTMLImageElement; maps: Float32Array; selected: number } | undefined;
let runningId: string | undefined;

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'runStarted':
      runningId = message.runId;
      showStatus(`Generating “${message.prompt}”…`, true);
      break;
    case 'progress':
      if (message.runId === runningId) showStatus(`Step ${message.step} of ${message.totalSteps}`, true);
      break;
    case 'result':
      runningId = undefined;
      showStatus('', false);
      void showRun(message.run);
      break;
    case 'runFailed':
      runningId = undefined;
      showStatus(`Run failed: ${message.message}`, false, true);
      break;
    case 'runCancelled':
      runningId = undefined;
      showStatus('Run cancelled.', false);
      break;
  }
});

el<HTMLElement>('cancel').addEventListener('click', () => {
  if (runningId) post({ type: 'cancel', runId: runningId });
});
el<HTMLElement>('reveal').addEventListener('click', () => {
  if (current) post({ type: 'revealRunFolder', runId: current.run.runId });
});

function showStatus(text: string, busy: boolean, isError = false): void {
  const status = el('status');
  status.hidden = !text;
  status.classList.toggle('error', isError);
  el('status-text').textContent = text;
  el('busy').hidden = !busy;
  el('cancel').hidden = !busy;
}

async function showRun(run: RunView): Promise<void> {
  const image = await loadPng(run.imagePng);
  const maps = new Float32Array(run.wordMaps);
  const firstObject = run.words.findIndex((w) => w.isObject);
  current = { run, image, maps, selected: firstObject >= 0 ? firstObject : 0 };
  el('empty').hidden = true;
  el('result').hidden = false;
  el('prompt').textContent = run.prompt;
  el('meta').textContent = `${run.model} · ${run.provider} · seed ${run.seed} · ${run.steps} steps · ${Math.round(run.totalMs)} ms`;
  renderChips();
  renderOverlay();
  renderGrid();
  renderScores();
  post({
    type: 'rendered',
    state: { runId: run.runId, imageShown: image.naturalWidth > 0, tokenMaps: run.words.map((w) => w.word) },
  });
}

function mapOf(index: number): Float32Array {
  if (!current) throw new Error('no run');
  const size = current.run.mapHeight * current.run.mapWidth;
  return current.maps.subarray(index * size, (index + 1) * size);
}

function renderChips(): void {
  if (!current) return;
  const chips = el('chips');
  chips.replaceChildren();
  current.run.words.forEach((word, i) => {
    const chip = document.createElement('button');
    chip.className = `chip${word.isObject ? ' object' : ''}${word.isSpecial ? ' special' : ''}`;
    chip.textContent = word.word;
    chip.title = `tokens ${word.tokenIndices.join(', ')}`;
    chip.setAttribute('aria-pressed', String(i === current?.selected));
    chip.addEventListener('click', () => {
      if (!current) return;
      current.selected = i;
      renderChips();
      renderOverlay();
    });
    chips.append(chip);
  });
}

function renderOverlay(): void {
  if (!current) return;
  const { run, image, selected } = current;
  const map = mapOf(selected);
  const max = mapMaxOf(map);
  drawImageWithOverlay(el<HTMLCanvasElement>('overlay'), image, map, run.mapHeight, run.mapWidth, max);
  el('legend-word').textContent = run.words[selected].word;
  el('legend-max').textContent = max.toFixed(3);
}

function renderGrid(): void {
  if (!current) return;
  const { run } = current;
  const grid = el('maps');
  grid.replaceChildren();
  run.words.forEach((word, i) => {
    const figure = document.createElement('figure');
    figure.className = `token-map${word.isObject ? ' object' : ''}`;
    figure.dataset.word = word.word;
    const canvas = document.createElement('canvas');
    const map = mapOf(i);
    drawHeat(canvas, map, run.mapHeight, run.mapWidth, mapMaxOf(map));
    const caption = document.createElement('figcaption');
    const activation = run.scores?.activations.find((a) => a.word === word.word);
    caption.textContent = activation ? `${word.word} · ${activation.value.toFixed(3)}` : word.word;
    figure.append(canvas, caption);
    figure.addEventListener('click', () => {
      if (!current) return;
      current.selected = i;
      renderChips();
      renderOverlay();
    });
    grid.append(figure);
  });
}

function renderScores(): void {
  if (!current) return;
  const { run } = current;
  const table = el('scores');
  table.replaceChildren();
  const s = run.scores;
  el('scores-section').hidden = !s;
  if (!s) return;
  const row = (label: string, value: string): void => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = label;
    const td = document.createElement('td');
    td.textContent = value;
    tr.append(th, td);
    table.append(tr);
  };
  row('Overlap (L_sep)', s.overlap.toFixed(3));
  for (const a of s.activations) row(`Activation of ${a.word}`, a.value.toFixed(3));
  row('Weakest object', s.weakest);
  row('L_en = 1 − min a', s.enhanceLoss.toFixed(3));
  row('L = L_sep + 0.5·L_en', s.totalLoss.toFixed(3));
  for (const p of s.pairs) row(`${p.a} × ${p.b}`, `IoU ${p.iou.toFixed(2)} · IoA ${p.ioaA.toFixed(2)} / ${p.ioaB.toFixed(2)}`);
  const overlap = new Float32Array(run.overlapMap);
  drawHeat(el<HTMLCanvasElement>('overlap-map'), overlap, run.mapHeight, run.mapWidth, mapMaxOf(overlap));
}

async function loadPng(bytes: ArrayBuffer): Promise<HTMLImageElement> {
  const image = new Image();
  image.src = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
  await image.decode();
  return image;
}

post({ type: 'ready' });
