// Canvas drawing of attention maps: colour ramp shared with the run record's PNGs.
import { inferno } from '../../src/engine/image/colormap';

/** Side of drawn pictures in CSS pixels; small model outputs are scaled up without smoothing. */
export const VIEW_SIDE = 256;

export function mapMaxOf(map: Float32Array): number {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  return max;
}

function heatImage(map: Float32Array, h: number, w: number, max: number, alpha: boolean): ImageData {
  const image = new ImageData(w, h);
  const inv = max > 0 ? 1 / max : 0;
  for (let p = 0; p < h * w; p++) {
    const v = Math.min(1, Math.max(0, map[p] * inv));
    const [r, g, b] = inferno(v);
    image.data.set([r, g, b, alpha ? Math.round(255 * 0.75 * v) : 255], p * 4);
  }
  return image;
}

function scratch(image: ImageData): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')?.putImageData(image, 0, 0);
  return canvas;
}

export function drawHeat(canvas: HTMLCanvasElement, map: Float32Array, h: number, w: number, max: number): void {
  canvas.width = Math.max(w, 128);
  canvas.height = Math.round((canvas.width * h) / w);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch(heatImage(map, h, w, max, false)), 0, 0, canvas.width, canvas.height);
}

/** The image with a map's heat laid over it, on `canvas` (created when not given) at VIEW_SIDE width. */
export function drawImageWithOverlay(
  canvas: HTMLCanvasElement,
  image: HTMLImageElement,
  map: Float32Array,
  h: number,
  w: number,
  max: number,
): HTMLCanvasElement {
  canvas.width = VIEW_SIDE;
  canvas.height = Math.round((VIEW_SIDE * image.naturalHeight) / image.naturalWidth);
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  // Attention cells are coarse: smooth them when stretched so the overlay reads as a heat field.
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch(heatImage(map, h, w, max, true)), 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** `before` left of the split at `fraction` (0..1 of the width), `after` right of it, and the divider. */
export function drawReveal(canvas: HTMLCanvasElement, before: HTMLCanvasElement, after: HTMLCanvasElement, fraction: number, line: string): void {
  canvas.width = before.width;
  canvas.height = before.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const x = Math.round(Math.min(1, Math.max(0, fraction)) * canvas.width);
  ctx.drawImage(before, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, 0, canvas.width - x, canvas.height);
  ctx.clip();
  ctx.drawImage(after, 0, 0, canvas.width, canvas.height);
  ctx.restore();
  ctx.fillStyle = line;
  ctx.fillRect(Math.max(0, x - 1), 0, 2, canvas.height);
}

/** A small line chart of `values` (loss per step) in the theme's colours. */
export function drawCurve(canvas: HTMLCanvasElement, values: number[], stroke: string, muted: string): void {
  canvas.width = 280;
  canvas.height = 90;
  const ctx = canvas.getContext('2d');
  if (!ctx || values.length === 0) return;
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || 1;
  const pad = 6;
  const x = (i: number): number => pad + ((canvas.width - 2 * pad) * i) / Math.max(1, values.length - 1);
  const y = (v: number): number => pad + (canvas.height - 2 * pad) * (1 - (v - lo) / span);
  ctx.strokeStyle = muted;
  ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
}

/**
 * The image with object masks (Uint8 `[K, h, w]`, 1 inside) laid over it, mask `indices[i]` in
 * `colours[i]`: a translucent fill and the cells' outline, so overlaps read as mixed colours.
 */
export function drawMasks(
  canvas: HTMLCanvasElement,
  image: HTMLImageElement | undefined,
  masks: Uint8Array | undefined,
  indices: number[],
  h: number,
  w: number,
  colours: string[],
  side = 128,
): void {
  canvas.width = side;
  canvas.height = image && image.naturalWidth > 0 ? Math.round((side * image.naturalHeight) / image.naturalWidth) : side;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = true;
  if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (!masks) return;
  ctx.imageSmoothingEnabled = false;
  indices.forEach((k, i) => {
    const [r, g, b] = hexRgb(colours[i] ?? '#ffffff');
    const layer = new ImageData(w, h);
    for (let p = 0; p < h * w; p++) {
      if (!masks[k * h * w + p]) continue;
      const y = Math.floor(p / w);
      const x = p % w;
      // Edge cells (a neighbour outside) opaque, inside cells translucent.
      const inside = (yy: number, xx: number): boolean => yy >= 0 && yy < h && xx >= 0 && xx < w && masks[k * h * w + yy * w + xx] === 1;
      const edge = !inside(y - 1, x) || !inside(y + 1, x) || !inside(y, x - 1) || !inside(y, x + 1);
      layer.data.set([r, g, b, edge ? 230 : 110], p * 4);
    }
    ctx.drawImage(scratch(layer), 0, 0, canvas.width, canvas.height);
  });
}

function hexRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.replace('#', ''), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
