// The before/after split picture: base left of the split, finetuned right of it; the slider or a drag on
// the picture moves the split.
import { RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { drawReveal } from './canvas';
import type { ResultsState } from './state';

const ID = RESULTS_ID.compare;

export function drawRevealCanvas(state: ResultsState): void {
  if (!state.pairCanvases) return;
  const styles = getComputedStyle(document.body);
  drawReveal(el<HTMLCanvasElement>(ID.revealCanvas), state.pairCanvases.before, state.pairCanvases.after, state.reveal, styles.getPropertyValue('--vscode-focusBorder') || '#fff');
  el<HTMLInputElement>(ID.revealSlider).value = String(Math.round(state.reveal * 100));
}

function setReveal(state: ResultsState, fraction: number): void {
  state.reveal = Math.min(1, Math.max(0, fraction));
  el<HTMLInputElement>(ID.revealSlider).value = String(Math.round(state.reveal * 100));
  state.save({ reveal: state.reveal });
  drawRevealCanvas(state);
}

export function wireReveal(state: ResultsState): void {
  const slider = el<HTMLInputElement>(ID.revealSlider);
  slider.addEventListener('input', () => setReveal(state, Number(slider.value) / 100));
  // Drag on the picture itself moves the split too.
  const canvas = el<HTMLCanvasElement>(ID.revealCanvas);
  const dragTo = (e: PointerEvent): void => {
    const box = canvas.getBoundingClientRect();
    setReveal(state, (e.clientX - box.left) / box.width);
  };
  let dragging = false;
  canvas.addEventListener('pointerdown', (e) => {
    dragging = true;
    canvas.setPointerCapture(e.pointerId);
    dragTo(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (dragging) dragTo(e);
  });
  canvas.addEventListener('pointerup', () => {
    dragging = false;
  });
}
