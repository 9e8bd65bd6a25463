// Results view: one run (the image with a selectable per-word attention overlay, the word maps, the
// scores, the per-pixel overlap, a step slider over the run's timeline) or a before/after view (base
// and finetuned images side by side and split by a slider, score deltas, detector verdicts, the loss
// curve). Browser code only; talks to the host through the protocol; keeps its state with setState.
// This module wires the controls to the feature modules and owns word selection and redraw.
import type { HostToWebview, ResultsWebviewState } from '../../src/shared/protocol';
import { unpackMessage, type PackedMessage } from '../../src/shared/packedMessage';
import { RESULTS_ID } from '../../src/shared/webviewDom';
import { el, type VsCodeApi } from '../widgets/dom';
import { renderAnalysis } from './analysis';
import type { OverlayMode } from './canvas';
import { compareRef, renderCompare, renderCompareWords } from './compare';
import { exportPng } from './exportPng';
import { wireFilters } from './filters';
import { onHostMessage } from './hostMessages';
import { redrawRun, renderRunChipsAndOverlay } from './oneRun';
import { wireReveal } from './reveal';
import { RECORDED_THRESHOLD, ResultsState } from './state';

const RUN = RESULTS_ID.run;
const COMPARE = RESULTS_ID.compare;

export function startResults(vscode: VsCodeApi<ResultsWebviewState>): void {
  const state = new ResultsState(vscode);
  state.actions = {
    select(i: number): void {
      state.selected = i;
      const words = state.mode === 'run' ? state.single?.run.words : state.compare?.pairs[state.comparison]?.before.run.words;
      state.save({ selectedWord: words?.[i]?.word });
      // The chips are drawn again: keep the keyboard focus on the chip the user pressed.
      const chipsId = state.mode === 'run' ? RUN.chips : COMPARE.chips;
      const hadFocus = el(chipsId).contains(document.activeElement);
      if (state.mode === 'run') renderRunChipsAndOverlay(state);
      else renderCompareWords(state);
      if (hadFocus) (el(chipsId).children[i] as HTMLElement | undefined)?.focus();
    },
    redraw(): void {
      if (state.mode === 'run') redrawRun(state);
      else if (state.mode === 'compare') renderCompareWords(state);
    },
  };

  window.addEventListener('message', (event: MessageEvent<PackedMessage<HostToWebview>>) => onHostMessage(state, unpackMessage(event.data)));

  el(RESULTS_ID.cancel).addEventListener('click', () => {
    if (state.runningId) state.post({ type: 'cancel', runId: state.runningId });
  });
  const revealFolder = (): void => {
    const folder = state.mode === 'run' ? state.single?.run.runFolder : state.compare?.view.folder;
    if (folder) state.post({ type: 'revealRunFolder', runId: state.mode === 'run' ? (state.single?.run.runId ?? '') : (state.compare?.view.id ?? ''), folder });
  };
  for (const id of [RUN.reveal, COMPARE.reveal]) el(id).addEventListener('click', revealFolder);
  for (const id of [RUN.export, COMPARE.export]) el(id).addEventListener('click', () => void exportPng(state));

  for (const id of [RUN.step, COMPARE.step]) {
    el<HTMLInputElement>(id).addEventListener('input', (e) => {
      state.position = Number((e.target as HTMLInputElement).value);
      state.save({ step: state.position });
      state.actions.redraw();
    });
  }
  wireFilters(state);
  const overlayMode = el<HTMLSelectElement>(RUN.overlayMode);
  const overlayOpacity = el<HTMLInputElement>(RUN.overlayOpacity);
  overlayMode.value = state.overlay().mode;
  overlayOpacity.value = String(Math.round(100 * state.overlay().opacity));
  overlayMode.addEventListener('change', () => {
    state.save({ overlay: overlayMode.value as OverlayMode });
    state.actions.redraw();
  });
  overlayOpacity.addEventListener('input', () => {
    state.save({ opacity: Number(overlayOpacity.value) / 100 });
    renderRunChipsAndOverlay(state);
  });
  const thresholdInput = el<HTMLInputElement>(RUN.maskThreshold);
  thresholdInput.value = String(Math.round(100 * (state.saved.maskThreshold ?? RECORDED_THRESHOLD)));
  thresholdInput.addEventListener('input', () => {
    state.save({ maskThreshold: Number(thresholdInput.value) / 100 });
    renderAnalysis(state);
  });
  el<HTMLSelectElement>(COMPARE.which).addEventListener('change', (e) => {
    state.comparison = Number((e.target as HTMLSelectElement).value);
    state.save({ comparison: state.comparison, ref: compareRef(state) });
    renderCompare(state);
  });
  wireReveal(state);

  state.post({ type: 'ready', ...(state.saved.ref ? { restore: state.saved.ref } : {}) });
}
