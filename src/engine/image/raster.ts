// Pixel-level helpers that turn model tensors and attention maps into pictures.
import { INFERNO_ANCHORS, infernoInto } from '../../shared/colormap';
import type { IndexedImage, RasterImage } from './png';

/** CHW float tensor in [-1, 1] (pixel-space models and VAE outputs) to an RGB raster. */
export function tensorToRgb(chw: Float32Array, height: number, width: number): RasterImage {
  const plane = height * width;
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (chw[c * plane + p] + 1) / 2;
      data[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width, height, channels: 3, data };
}

/** Nearest-neighbour resize: keeps attention cells crisp when a small map is shown large. */
export function resizeNearest(image: RasterImage, width: number, height: number): RasterImage {
  const { channels } = image;
  const data = new Uint8Array(width * height * channels);
  // Source byte offset of each output column, computed once instead of per row.
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) columns[x] = Math.min(image.width - 1, Math.floor((x * image.width) / width)) * channels;
  let previous = -1;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor((y * image.height) / height));
    const row = y * width * channels;
    // A repeated source row is the output row above it.
    if (sy === previous) {
      data.copyWithin(row, row - width * channels, row);
      continue;
    }
    previous = sy;
    const src = sy * image.width * channels;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[row + x * channels + c] = image.data[src + columns[x] + c];
    }
  }
  return { width, height, channels, data };
}

/** Bilinear resize of a single-channel float map (align_corners=false), for overlays at image resolution. */
export function resizeMapBilinear(map: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW);
  // Each output column's two source columns and weight, computed once instead of per row.
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const dxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / outW - 0.5));
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(w - 1, x0s[x] + 1);
    dxs[x] = fx - x0s[x];
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / outH - 0.5));
    const y0 = Math.floor(fy);
    const top = y0 * w;
    const bottom = Math.min(h - 1, y0 + 1) * w;
    const dy = fy - y0;
    const row = y * outW;
    for (let x = 0; x < outW; x++) {
      const x0 = x0s[x];
      const x1 = x1s[x];
      const dx = dxs[x];
      const upper = map[top + x0] * (1 - dx) + map[top + x1] * dx;
      const lower = map[bottom + x0] * (1 - dx) + map[bottom + x1] * dx;
      out[row + x] = upper * (1 - dy) + lower * dy;
    }
  }
  return out;
}

/**
 * Inferno at 256 levels, the palette of heat maps: one index byte per pixel instead of three colour bytes to
 * filter and compress, and a colour within two levels of inferno(v) (v is rounded to 1/255 first).
 */
export const INFERNO_PALETTE: Uint8Array = (() => {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) infernoInto(i / 255, palette, i * 3);
  return palette;
})();

/** Heat map as inferno palette indices; `scale` maps values to [0, 1] (per-map max or a shared maximum). */
export function heatmapIndexed(map: Float32Array, height: number, width: number, scale: number): IndexedImage {
  const indices = new Uint8Array(height * width);
  const inv = scale > 0 ? 255 / scale : 0;
  for (let p = 0; p < height * width; p++) {
    const level = map[p] * inv;
    indices[p] = level > 255 ? 255 : level > 0 ? (level + 0.5) | 0 : 0; // NaN too: 0
  }
  return { width, height, indices, palette: INFERNO_PALETTE };
}

/** `image` resized nearest-neighbour, cells kept crisp as resizeNearest keeps them. */
export function resizeIndexed(image: IndexedImage, width: number, height: number): IndexedImage {
  const { data } = resizeNearest({ width: image.width, height: image.height, channels: 1, data: image.indices }, width, height);
  return { width, height, indices: data, palette: image.palette };
}

/** The inferno anchors flat (r, g, b per anchor), for kernels that inline `infernoInto`. */
const ANCHORS = Float64Array.from(INFERNO_ANCHORS.flat());
const SEGMENTS = INFERNO_ANCHORS.length - 1;

/**
 * Heat map blended over the image: alpha follows the heat so cold regions show the picture. Per pixel it is
 * `round(pixel (1 - a) + inferno(v) a)` with `a = maxAlpha v`, inferno inlined: this kernel runs over every pixel of
 * every word's overlay of every run record.
 */
export function overlayHeat(image: RasterImage, map: Float32Array, scale: number, maxAlpha = 0.75): RasterImage {
  const { width, height, channels } = image;
  const pixels = image.data;
  const data = new Uint8Array(width * height * 3);
  const inv = scale > 0 ? 1 / scale : 0;
  for (let p = 0, from = 0, to = 0; p < width * height; p++, from += channels, to += 3) {
    const scaled = map[p] * inv;
    const v = scaled > 1 ? 1 : scaled > 0 ? scaled : 0; // NaN too: 0
    const x = v * SEGMENTS;
    const i = Math.min(SEGMENTS - 1, x | 0);
    const f = x - i;
    const k = 3 * i;
    const a = maxAlpha * v;
    const rest = 1 - a;
    // (x + 0.5) | 0 is Math.round for x >= 0, and over four times faster here.
    const r = (ANCHORS[k] + (ANCHORS[k + 3] - ANCHORS[k]) * f + 0.5) | 0;
    const g = (ANCHORS[k + 1] + (ANCHORS[k + 4] - ANCHORS[k + 1]) * f + 0.5) | 0;
    const b = (ANCHORS[k + 2] + (ANCHORS[k + 5] - ANCHORS[k + 2]) * f + 0.5) | 0;
    data[to] = (pixels[from] * rest + r * a + 0.5) | 0;
    data[to + 1] = (pixels[from + 1] * rest + g * a + 0.5) | 0;
    data[to + 2] = (pixels[from + 2] * rest + b * a + 0.5) | 0;
  }
  return { width, height, channels: 3, data };
}

export function mapMax(map: Float32Array): number {
  let m = 0;
  for (let i = 0; i < map.length; i++) if (map[i] > m) m = map[i];
  return m;
}
