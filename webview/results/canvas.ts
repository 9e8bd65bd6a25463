// Canvas drawing of attention maps: colour ramp shared with the run record's PNGs.
import { inferno } from '../../src/shared/colormap';

/** Side of drawn pictures in CSS pixels; small model outputs are scaled up without smoothing. */
export const VIEW_SIDE = 256;

export function mapMaxOf(map: Float32Array): number {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  return max;
}

function heatImage(map: Float32Array, h: number, w: number, max: number, alpha: boolean, opacity = 0.75): ImageData {
  const image = new ImageData(w, h);
  const inv = max > 0 ? 1 / max : 0;
  for (let p = 0; p < h * w; p++) {
    const v = Math.min(1, Math.max(0, map[p] * inv));
    const [r, g, b] = inferno(v);
    image.data.set([r, g, b, alpha ? Math.round(255 * opacity * v) : 255], p * 4);
  }
  return image;
}

/** Contour levels, as shares of the map's maximum. */
const CONTOUR_LEVELS = [0.25, 0.5, 0.75];

/**
 * Iso-lines of the map (bilinear between cells) at CONTOUR_LEVELS of `max`, `side` x `side`: the picture stays
 * uncoloured between the lines, so the objects' own colours remain readable.
 */
function contourImage(map: Float32Array, h: number, w: number, max: number, width: number, height: number, opacity: number): ImageData {
  const image = new ImageData(width, height);
  const level = new Int8Array(width * height);
  const inv = max > 0 ? 1 / max : 0;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / height - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(h - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / width - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(w - 1, x0 + 1);
      const tx = fx - x0;
      const v = (map[y0 * w + x0] * (1 - tx) + map[y0 * w + x1] * tx) * (1 - ty) + (map[y1 * w + x0] * (1 - tx) + map[y1 * w + x1] * tx) * ty;
      level[y * width + x] = CONTOUR_LEVELS.filter((l) => v * inv >= l).length;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = level[y * width + x];
      const edge = (x + 1 < width && level[y * width + x + 1] !== l) || (y + 1 < height && level[(y + 1) * width + x] !== l);
      if (!edge || l === 0) continue;
      const [r, g, b] = inferno(0.35 + 0.2 * l);
      image.data.set([r, g, b, Math.round(255 * Math.max(0.35, opacity))], (y * width + x) * 4);
    }
  }
  return image;
}

export type OverlayMode = 'heat' | 'contour' | 'image';

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
  overlay: { mode: OverlayMode; opacity: number } = { mode: 'heat', opacity: 0.75 },
): HTMLCanvasElement {
  canvas.width = VIEW_SIDE;
  canvas.height = Math.round((VIEW_SIDE * image.naturalHeight) / image.naturalWidth);
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (overlay.mode === 'image' || overlay.opacity <= 0) return canvas;
  if (overlay.mode === 'contour') {
    ctx.drawImage(scratch(contourImage(map, h, w, max, canvas.width, canvas.height, overlay.opacity)), 0, 0);
    return canvas;
  }
  // Attention cells are coarse: smooth them when stretched so the overlay reads as a heat field.
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch(heatImage(map, h, w, max, true, overlay.opacity)), 0, 0, canvas.width, canvas.height);
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

/** A line chart of `values` (loss per training step) with labelled axes, in the theme's colours. */
export function drawCurve(canvas: HTMLCanvasElement, values: number[], stroke: string, muted: string, text: string): void {
  canvas.width = 320;
  canvas.height = 130;
  const ctx = canvas.getContext('2d');
  if (!ctx || values.length === 0) return;
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || 1;
  // Room on the left for the loss ticks, below for the step ticks and the axis name.
  const left = 52;
  const right = 8;
  const top = 8;
  const bottom = 30;
  const plotW = canvas.width - left - right;
  const plotH = canvas.height - top - bottom;
  const x = (i: number): number => left + (plotW * i) / Math.max(1, values.length - 1);
  const y = (v: number): number => top + plotH * (1 - (v - lo) / span);
  ctx.strokeStyle = muted;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, top + plotH + 0.5);
  ctx.lineTo(left + plotW, top + plotH + 0.5);
  ctx.stroke();
  ctx.fillStyle = text;
  ctx.font = '10px sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of hi === lo ? [hi] : [hi, (hi + lo) / 2, lo]) ctx.fillText(v.toFixed(3), left - 4, y(v));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText('1', x(0), top + plotH + 3);
  ctx.fillText(String(values.length), x(values.length - 1), top + plotH + 3);
  ctx.fillText('training step → (loss ↓ is better)', left + plotW / 2, top + plotH + 15);
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
      layer.data.set([r, g, b, edge ? 255 : 60], p * 4);
    }
    ctx.drawImage(scratch(layer), 0, 0, canvas.width, canvas.height);
  });
}

function hexRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.replace('#', ''), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
