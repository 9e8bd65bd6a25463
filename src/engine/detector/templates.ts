// Shape by template fit, for worlds that never rotate their shapes: each shape's exact geometry, anti-aliased
// the way the generator renders it, is fitted to the region's soft mask over centre, size and edge softness,
// and the shape whose best fit correlates most with the mask wins.
//
// A template is a summed-area table of the shape's inside test on a fine grid (units of its circumscribed
// radius), so the coverage of any pixel footprint at any centre and size is four lookups: the generator's
// 4x4-supersampled pixel coverage, to within the grid step. The fit starts where the mask's soft area and
// centroid put the shape (its unit area and centroid offset are known) and refines by coordinate search.
import type { Shape } from './palette';
import type { Region, Segmentation } from './regions';
import type { ShapeCall } from './world';

/** Grid cells per axis over [-EXTENT, EXTENT]² (a cell is 0.01 radii: 0.1 px on the largest shapes). */
const GRID = 260;
const EXTENT = 1.3;
/** Pixels of context around the region's bounding box (the world keeps objects 2 px apart). */
const WINDOW_MARGIN = 2;
/**
 * Edge softness tried: the footprint's extra width in px (a box blur of the template). 0 is a clean render;
 * wider footprints match blurred images (a blurred ring's hole fills in, a star's points round off).
 */
const SOFTNESS = [0, 0.8, 1.6];
/**
 * Only shapes whose starting fit is within this of the best start are refined (the rest keep their start's
 * score). On the 3,027 tuning objects this halves the time (3.9 -> 1.9 ms CPU an image) and costs 3 objects found
 * under the heaviest degradation (2,943 -> 2,940), none on clean, mild or strong ones.
 */
const REFINE_WITHIN = 0.2;

interface Template {
  shape: Shape;
  /** (GRID + 1)² summed-area table of inside samples, row-major over v then u. */
  table: Float64Array;
  /** Area (in units of the radius squared) and centroid of the shape. */
  area: number;
  centroidU: number;
  centroidV: number;
}

function buildTemplate(shape: Shape, inside: (u: number, v: number) => boolean): Template {
  const step = (2 * EXTENT) / GRID;
  const n = GRID + 1;
  const table = new Float64Array(n * n);
  let count = 0;
  let su = 0;
  let sv = 0;
  for (let j = 0; j < GRID; j++) {
    const v = -EXTENT + (j + 0.5) * step;
    let row = 0;
    for (let i = 0; i < GRID; i++) {
      const u = -EXTENT + (i + 0.5) * step;
      if (inside(u, v)) {
        row++;
        count++;
        su += u;
        sv += v;
      }
      table[(j + 1) * n + i + 1] = table[j * n + i + 1] + row;
    }
  }
  return { shape, table, area: count * step * step, centroidU: count > 0 ? su / count : 0, centroidV: count > 0 ? sv / count : 0 };
}

/** The region's soft mask over a window around it: coverage along its colour / its interior level, in [0, 1]. */
interface SoftMask {
  x0: number;
  y0: number;
  width: number;
  height: number;
  values: Float64Array;
  sum: number;
  centroidX: number;
  centroidY: number;
}

function softMask(seg: Segmentation, region: Region, peak: number, bbox: { x: number; y: number; width: number; height: number }): SoftMask {
  const K = seg.colours.length;
  const k = seg.colours.indexOf(region.colour);
  const own = new Set(region.pixels);
  const x0 = Math.max(0, bbox.x - WINDOW_MARGIN);
  const y0 = Math.max(0, bbox.y - WINDOW_MARGIN);
  const x1 = Math.min(seg.width, bbox.x + bbox.width + WINDOW_MARGIN);
  const y1 = Math.min(seg.height, bbox.y + bbox.height + WINDOW_MARGIN);
  const width = x1 - x0;
  const height = y1 - y0;
  const values = new Float64Array(width * height);
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = y * seg.width + x;
      // pixels of other objects are not this one's; unclaimed pixels keep their faint coverage (blurred edges)
      if (seg.labels[p] >= 0 && !own.has(p)) continue;
      const w = Math.min(1, Math.max(0, seg.coverageByColour[p * K + k] / peak));
      values[(y - y0) * width + (x - x0)] = w;
      sum += w;
      sx += w * (x + 0.5);
      sy += w * (y + 0.5);
    }
  }
  return { x0, y0, width, height, values, sum, centroidX: sum > 0 ? sx / sum : x0 + width / 2, centroidY: sum > 0 ? sy / sum : y0 + height / 2 };
}

interface Pose {
  cx: number;
  cy: number;
  r: number;
  soft: number;
}

/** Grid line nearest to `x` (radius units), unclamped. */
function gridLine(x: number): number {
  return Math.round((x + EXTENT) * (GRID / (2 * EXTENT)));
}

/**
 * Pearson correlation of the template at `pose` with the mask over the window. A pixel's template value is the
 * fraction of its footprint (1 + soft px square) inside the shape: four summed-area lookups between grid lines,
 * which are separable, so they are found once per column and per row.
 */
function correlation(t: Template, mask: SoftMask, pose: Pose, lines: Int32Array): number {
  const { width, height, values } = mask;
  const half = (1 + pose.soft) / 2 / pose.r;
  const clamp = (k: number): number => (k < 0 ? 0 : k > GRID ? GRID : k);
  // lines: [u0 of each column, u1 of each column, v0 of each row * stride, v1 of each row * stride]
  const stride = GRID + 1;
  let cells = 0;
  for (let i = 0; i < width; i++) {
    const u = (mask.x0 + i + 0.5 - pose.cx) / pose.r;
    const lo = gridLine(u - half);
    const hi = gridLine(u + half);
    cells = hi - lo;
    lines[i] = clamp(lo);
    lines[width + i] = clamp(hi);
  }
  let rows = 0;
  for (let j = 0; j < height; j++) {
    const v = (mask.y0 + j + 0.5 - pose.cy) / pose.r;
    const lo = gridLine(v - half);
    const hi = gridLine(v + half);
    rows = hi - lo;
    lines[2 * width + j] = clamp(lo) * stride;
    lines[2 * width + height + j] = clamp(hi) * stride;
  }
  const area = cells * rows;
  if (area <= 0) return 0;
  const table = t.table;
  let st = 0;
  let stt = 0;
  let swt = 0;
  let sw = 0;
  let sww = 0;
  for (let j = 0; j < height; j++) {
    const r0 = lines[2 * width + j];
    const r1 = lines[2 * width + height + j];
    for (let i = 0; i < width; i++) {
      const c0 = lines[i];
      const c1 = lines[width + i];
      const inside = table[r1 + c1] - table[r0 + c1] - table[r1 + c0] + table[r0 + c0];
      const c = inside >= area ? 1 : inside / area;
      const w = values[j * width + i];
      st += c;
      stt += c * c;
      swt += c * w;
      sw += w;
      sww += w * w;
    }
  }
  const n = width * height;
  const cov = swt - (st * sw) / n;
  const vt = stt - (st * st) / n;
  const vw = sww - (sw * sw) / n;
  return vt > 0 && vw > 0 ? cov / Math.sqrt(vt * vw) : 0;
}

interface Fit {
  score: number;
  pose: Pose;
}

/** The template where the mask's soft area and centroid put it, at the edge softness that fits best. */
function startFit(t: Template, mask: SoftMask, lines: Int32Array): Fit {
  const r = Math.sqrt(mask.sum / t.area);
  let fit: Fit = { score: -Infinity, pose: { cx: mask.centroidX - r * t.centroidU, cy: mask.centroidY - r * t.centroidV, r, soft: SOFTNESS[0] } };
  for (const soft of SOFTNESS) {
    const pose = { ...fit.pose, soft };
    const score = correlation(t, mask, pose, lines);
    if (score > fit.score) fit = { score, pose };
  }
  return fit;
}

/** Coordinate search over centre and size from `fit`, halving the steps three times; the best correlation found. */
function refineFit(t: Template, mask: SoftMask, lines: Int32Array, fit: Fit): number {
  let { score: best, pose } = fit;
  let step = 0.5;
  let scaleStep = 0.08;
  for (let round = 0; round < 3; round++) {
    let improved = true;
    while (improved) {
      improved = false;
      const moves: Pose[] = [
        { ...pose, cx: pose.cx + step },
        { ...pose, cx: pose.cx - step },
        { ...pose, cy: pose.cy + step },
        { ...pose, cy: pose.cy - step },
        { ...pose, r: pose.r * (1 + scaleStep) },
        { ...pose, r: pose.r / (1 + scaleStep) },
      ];
      for (const m of moves) {
        const s = correlation(t, mask, m, lines);
        if (s > best + 1e-9) {
          best = s;
          pose = m;
          improved = true;
        }
      }
    }
    step /= 2;
    scaleStep /= 2;
  }
  return best;
}

export interface TemplateClassifier {
  classify(seg: Segmentation, region: Region, peak: number, bbox: { x: number; y: number; width: number; height: number }): ShapeCall;
}

/** A classifier over `shapes`, each given by its inside test in units of its circumscribed radius (templates built once, on first use). */
export function templateClassifier(shapes: readonly Shape[], inside: (shape: Shape, u: number, v: number) => boolean): TemplateClassifier {
  let templates: Template[] | undefined;
  return {
    classify(seg, region, peak, bbox) {
      templates ??= shapes.map((s) => buildTemplate(s, (u, v) => inside(s, u, v)));
      const mask = softMask(seg, region, peak, bbox);
      const lines = new Int32Array(2 * (mask.width + mask.height));
      const starts = templates.map((t) => startFit(t, mask, lines));
      const leader = Math.max(...starts.map((f) => f.score));
      const scores: Record<Shape, number> = {};
      let shape = shapes[0];
      templates.forEach((t, i) => {
        scores[t.shape] = starts[i].score >= leader - REFINE_WITHIN ? refineFit(t, mask, lines, starts[i]) : starts[i].score;
        if (scores[t.shape] > scores[shape]) shape = t.shape;
      });
      return { shape, scores };
    },
  };
}
