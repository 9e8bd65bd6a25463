// Pixels -> coloured regions: background from the border, per-pixel palette colour (the world's) and coverage,
// 4-connected components per colour, tiny fragments merged into a touching object or dropped.
import { type PaletteEntry, type Rgb, angleBetween, chromaPlane, paletteFrom } from './palette';
import type { Region, Segmentation } from './regions';
import { TINY_SHAPES } from './tinyShapes';
import type { DetectorWorld } from './world';

/**
 * An 8-bit image, row-major and channel-interleaved (`width * height * channels` bytes): RGB (3 channels),
 * or RGBA (4; alpha ignored). Structurally compatible with the engine's RasterImage (image/png.ts).
 */
export interface RgbImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export interface SegmentOptions {
  /** The scenes' colours and shapes; default tiny-shapes'. */
  world?: DetectorWorld;
  /** Background colour; default: the per-channel median of the image's outermost ring of pixels. */
  background?: Rgb;
  /**
   * A pixel is an object pixel when its coverage (its distance from the background along the nearest
   * palette hue, divided by that colour's own distance) is at least this. 0.5 reproduces scenes.py's
   * ground-truth masks (coverage >= 0.5); the default is a little lower so that desaturated generated
   * colours still give whole shapes. Default 0.4.
   */
  minCoverage?: number;
  /**
   * Largest hue difference (degrees) between a pixel and its nearest palette colour; further away the pixel
   * is no palette colour at all (cyan, magenta, grey...) and counts as background. tiny-shapes' hues are
   * 57-126 degrees apart (neglect-shapes' 57-63), so any value above half of that only matters for off-palette
   * hues. Default 45.
   */
  maxHueDifferenceDeg?: number;
  /**
   * Components smaller than this many pixels are fragments: merged into an object they touch (8-neighbourhood),
   * otherwise dropped as specks. Default: 1.2% of the image (12 px at 32x32; the smallest scenes.py object
   * covers about 35 px).
   */
  minArea?: number;
}

const DEFAULT_MIN_COVERAGE = 0.4;
const DEFAULT_MAX_HUE_DIFFERENCE_DEG = 45;
const DEFAULT_MIN_AREA_FRACTION = 0.012;

export function defaultMinArea(width: number, height: number): number {
  return Math.max(4, Math.round(DEFAULT_MIN_AREA_FRACTION * width * height));
}

export function validateImage(image: RgbImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`detector: bad image size ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new Error(`detector: expected an RGB or RGBA image, got ${channels} channel(s)`);
  if (data.length !== width * height * channels) {
    throw new Error(`detector: expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per-channel median of the outermost ring of pixels (scenes.py keeps every shape at least 1 px off the border). */
export function estimateBackground(image: RgbImage): Rgb {
  const { width, height, channels, data } = image;
  const ring: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || y === height - 1 || x === 0 || x === width - 1) ring.push(y * width + x);
    }
  }
  const channel = (c: number): number => median(ring.map((p) => data[p * channels + c]));
  return [channel(0), channel(1), channel(2)];
}

/** Labels every pixel with its palette colour (or background) and its coverage. */
export function labelPixels(
  image: RgbImage,
  background: Rgb,
  minCoverage: number,
  maxHueDifferenceDeg: number,
  world: DetectorWorld = TINY_SHAPES,
): { labels: Int8Array; coverage: Float32Array; coverageByColour: Float32Array; palette: PaletteEntry[] } {
  const { width, height, channels, data } = image;
  const n = width * height;
  const palette = paletteFrom(background, world.colours, world.palette);
  const K = palette.length;
  const maxHue = (maxHueDifferenceDeg * Math.PI) / 180;
  const labels = new Int8Array(n).fill(-1);
  const coverage = new Float32Array(n);
  const coverageByColour = new Float32Array(n * K);
  for (let p = 0; p < n; p++) {
    const q = p * channels;
    const [a, b] = chromaPlane(data[q] - background[0], data[q + 1] - background[1], data[q + 2] - background[2]);
    const chroma = Math.hypot(a, b);
    const hue = Math.atan2(b, a);
    let best = -1;
    let bestDiff = Infinity;
    for (let k = 0; k < K; k++) {
      const e = palette[k];
      const diff = angleBetween(hue, e.hue);
      // projection of the pixel's chroma vector on the colour's direction, in units of the colour's chroma
      coverageByColour[p * K + k] = e.chroma > 0 ? (chroma * Math.cos(diff)) / e.chroma : 0;
      if (diff < bestDiff) {
        bestDiff = diff;
        best = k;
      }
    }
    if (best < 0) continue;
    const cov = coverageByColour[p * K + best];
    coverage[p] = cov;
    if (bestDiff <= maxHue && cov >= minCoverage) labels[p] = best;
  }
  return { labels, coverage, coverageByColour, palette };
}

/** 4-connected components of equal non-negative labels; each component's pixels ascending. */
export function connectedComponents(labels: Int8Array, width: number, height: number): { comp: Int32Array; members: number[][] } {
  const n = width * height;
  const comp = new Int32Array(n).fill(-1);
  const members: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (labels[start] < 0 || comp[start] >= 0) continue;
    const id = members.length;
    const pix: number[] = [];
    comp[start] = id;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      pix.push(p);
      const x = p % width;
      const y = (p - x) / width;
      const visit = (q: number): void => {
        if (labels[q] === labels[start] && comp[q] < 0) {
          comp[q] = id;
          stack.push(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (y > 0) visit(p - width);
      if (y < height - 1) visit(p + width);
    }
    pix.sort((a, b) => a - b);
    members.push(pix);
  }
  return { comp, members };
}

/**
 * Segments an image into coloured regions. Fragments (components below `minArea`) that touch a large
 * component (8-neighbourhood, any colour: blur turns a red edge orange, i.e. partly "yellow") are merged
 * into the large one they share the most boundary with; the rest are dropped.
 */
export function segment(image: RgbImage, options: SegmentOptions = {}): Segmentation {
  validateImage(image);
  const { width, height } = image;
  const background = options.background ?? estimateBackground(image);
  const minCoverage = options.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const maxHue = options.maxHueDifferenceDeg ?? DEFAULT_MAX_HUE_DIFFERENCE_DEG;
  const minArea = options.minArea ?? defaultMinArea(width, height);
  const world = options.world ?? TINY_SHAPES;

  const { labels, coverage, coverageByColour } = labelPixels(image, background, minCoverage, maxHue, world);
  const { comp, members } = connectedComponents(labels, width, height);
  const large = members.map((m) => m.length >= minArea);

  // Union fragments into large components they touch; fragments touching only fragments form
  // chains, so repeat until nothing changes (each pass only moves fragments into large owners).
  const owner = members.map((_, i) => (large[i] ? i : -1));
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < members.length; i++) {
      if (owner[i] >= 0) continue;
      const contacts = new Map<number, number>();
      for (const p of members[i]) {
        const x = p % width;
        const y = (p - x) / width;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if ((dx === 0 && dy === 0) || nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
            const c = comp[ny * width + nx];
            if (c < 0 || c === i || owner[c] < 0) continue;
            contacts.set(owner[c], (contacts.get(owner[c]) ?? 0) + 1);
          }
        }
      }
      let best = -1;
      let bestCount = 0;
      for (const [o, count] of contacts) {
        if (count > bestCount || (count === bestCount && o < best)) {
          best = o;
          bestCount = count;
        }
      }
      if (best >= 0) {
        owner[i] = best;
        changed = true;
      }
    }
  }

  const regions: Region[] = [];
  const index = new Map<number, number>();
  let droppedPixels = 0;
  for (let i = 0; i < members.length; i++) {
    if (large[i]) {
      index.set(i, regions.length);
      regions.push({ colour: world.colours[labels[members[i][0]]], pixels: [...members[i]] });
    }
  }
  for (let i = 0; i < members.length; i++) {
    if (large[i]) continue;
    if (owner[i] < 0) {
      droppedPixels += members[i].length;
      continue;
    }
    const r = regions[index.get(owner[i]) as number];
    for (const p of members[i]) r.pixels.push(p);
  }
  for (const r of regions) r.pixels.sort((a, b) => a - b);
  return { width, height, background, colours: world.colours, labels, coverage, coverageByColour, regions, droppedPixels };
}
