// Canvas drawing of attention maps: colour ramp shared with the run record's PNGs.
import { inferno } from '../../src/engine/image/colormap';

/** Side of drawn pictures in CSS pixels; small model outputs are scaled up without smoothing. */
const VIEW_SIDE = 256;

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

export function drawImageWithOverlay(
  canvas: HTMLCanvasElement,
  image: HTMLImageElement,
  map: Float32Array,
  h: number,
  w: number,
  max: number,
): void {
  canvas.width = VIEW_SIDE;
  canvas.height = Math.round((VIEW_SIDE * image.naturalHeight) / image.naturalWidth);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  // Attention cells are coarse: smooth them when stretched so the overlay reads as a heat field.
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch(heatImage(map, h, w, max, true)), 0, 0, canvas.width, canvas.height);
}
