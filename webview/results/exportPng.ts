// Export PNG: the shown view's pictures, title and scores drawn into one image, sent to the host to save.
import { detectionSummary, formatDelta, scoreDeltas } from '../../src/shared/deltas';
import { DATA, RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { ALL_OBJECTS } from './analysis';
import { VIEW_SIDE } from './canvas';
import type { ResultsState } from './state';

interface Picture {
  canvas: HTMLCanvasElement;
  label: string;
}

/** The mask grid's combined figure (or its only object's) for the PNG export, when the view drew one. */
function maskPicture(gridId: string, label: string): Picture[] {
  const figures = [...el(gridId).querySelectorAll<HTMLElement>('figure')];
  const figure = figures.find((f) => f.getAttribute(DATA.mask) === ALL_OBJECTS) ?? (figures.length === 1 ? figures[0] : undefined);
  const canvas = figure?.querySelector('canvas');
  return canvas ? [{ canvas, label }] : [];
}

/** What the shown view exports: its pictures, its text lines (title, meta, scores) and where it belongs. */
function exportContent(state: ResultsState): { pictures: Picture[]; lines: string[]; name: string; folder?: string } | undefined {
  const { single, compare } = state;
  if (state.mode === 'run' && single) {
    const { run } = single;
    const R = RESULTS_ID.run;
    const lines = [run.prompt, el(R.meta).textContent ?? ''];
    if (run.scores) {
      lines.push(`overlap ${run.scores.overlap.toFixed(3)} · ${run.scores.activations.map((a) => `${a.word} ${a.value.toFixed(3)}`).join(' · ')}`);
      if (run.scores.pairs.length > 0) lines.push(run.scores.pairs.map((p) => `${p.a} × ${p.b} mask IoU ${p.iou.toFixed(2)}`).join(' · '));
    }
    return {
      pictures: [
        { canvas: el<HTMLCanvasElement>(R.overlay), label: el(R.legendWord).textContent ?? '' },
        { canvas: el<HTMLCanvasElement>(R.overlapMap), label: 'per-pixel overlap' },
        ...maskPicture(R.masks, 'object masks'),
      ],
      lines,
      name: `${run.runId}`,
      folder: run.runFolder,
    };
  }
  if (state.mode === 'compare' && compare) {
    const C = RESULTS_ID.compare;
    const pair = compare.pairs[state.comparison];
    return {
      pictures: [
        { canvas: el<HTMLCanvasElement>(C.before), label: `base · ${detectionSummary(pair?.before.run.detection)}` },
        { canvas: el<HTMLCanvasElement>(C.after), label: `finetuned · ${detectionSummary(pair?.after.run.detection)}` },
        ...maskPicture(C.masksBefore, 'base object masks'),
        ...maskPicture(C.masksAfter, 'finetuned object masks'),
      ],
      lines: [compare.view.title, el(C.meta).textContent ?? '', ...scoreDeltas(pair?.before.run.scores, pair?.after.run.scores).map(formatDelta)],
      name: `${compare.view.id}-${state.comparison + 1}`,
      folder: compare.view.folder,
    };
  }
  return undefined;
}

export async function exportPng(state: ResultsState): Promise<void> {
  const content = exportContent(state);
  if (!content) return;
  const { pictures, lines, name, folder } = content;
  const styles = getComputedStyle(document.body);
  const fg = styles.color || '#000';
  const bg = styles.getPropertyValue('--vscode-editor-background').trim() || '#fff';
  const font = `13px ${styles.getPropertyValue('--vscode-font-family') || 'sans-serif'}`;
  const out = document.createElement('canvas');
  const pad = 16;
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
  state.post({ type: 'exportPng', png: await blob.arrayBuffer(), name, ...(folder ? { folder } : {}) });
}
