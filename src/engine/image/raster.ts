// Pixel-level helpers that turn model tensors and attention maps into pictures.
import { infernoInto } from '../../shared/colormap';
import type { RasterImage } from './png';

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
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / outH - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(h - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / outW - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(w - 1, x0 + 1);
      const dx = fx - x0;
      const top = map[y0 * w + x0] * (1 - dx) + map[y0 * w + x1] * dx;
      const bottom = map[y1 * w + x0] * (1 - dx) + map[y1 * w + x1] * dx;
      out[y * outW + x] = top * (1 - dy) + bottom * dy;
    }
  }
  return out;
}

/** Heat map coloured with inferno; `scale` maps values to [0, 1] (per-map max or a shared maximum). */
export function heatmapRgb(map: Float32Array, height: number, width: number, scale: number): RasterImage {
  const data = new Uint8Array(height * width * 3);
  const inv = scale > 0 ? 1 / scale : 0;
  for (let p = 0; p < height * width; p++) infernoInto(map[p] * inv, data, p * 3);
  return { width, height, channels: 3, data };
}

/** Heat map blended over the image: alpha follows the heat so cold regions show the picture. */
export function overlayHeat(image: RasterImage, map: Float32Array, scale: number, maxAlpha = 0.75): RasterImage {
  const { width, height, channels } = image;
  const pixels = image.data;
  const data = new Uint8Array(width * height * 3);
  const inv = scale > 0 ? 1 / scale : 0;
  const heat = new Uint8Array(3);
  for (let p = 0, from = 0, to = 0; p < width * height; p++, from += channels, to += 3) {
    const v = Math.min(1, Math.max(0, map[p] * inv));
    infernoInto(v, heat, 0);
    const a = maxAlpha * v;
    const rest = 1 - a;
    data[to] = Math.round(pixels[from] * rest + heat[0] * a);
    data[to + 1] = Math.round(pixels[from + 1] * rest + heat[1] * a);
    data[to + 2] = Math.round(pixels[from + 2] * rest + heat[2] * a);
  }
  return { width, height, channels: 3, data };
}

export function mapMax(map: Float32Array): number {
  let m = 0;
  for (let i = 0; i < map.length; i++) if (map[i] > m) m = map[i];
  return m;
}
