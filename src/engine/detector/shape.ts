// Region -> shape. Features (all scale-free; the decision uses `tri` and `quad`, the rest is reported):
//   tri, quad  rotation-invariant complex moments of the region's soft mask (coverage relative to its
//              interior level), |sum w z^3| and |sum w z^4| about the centroid, normalised by the second
//              moment: an equilateral triangle's 3-fold symmetry shows in z^3 only, a square's 4-fold in
//              z^4 only, a disc in neither. Rendered values: triangle tri 0.153, square quad 0.099, else ~0.
//              Taken after an area-preserving whitening of the second moments (affine normalisation), so an
//              elongated blob reads as a disc, not as a square.
//   fill       binary area / bounding-box area: square ~1, circle ~pi/4 = 0.785, upright triangle ~0.5
//              (pixelisation pushes small triangles up to ~0.7); not rotation-invariant.
//   roundness  binary area / area of the circle around the centroid through the farthest pixel centre
//              (+0.5 px): circle ~0.85, square ~0.68, triangle ~0.46.
// Moments beat the binary ratios on 7-15 px shapes: they use the anti-aliased coverage, so a one-pixel
// change of the mask moves them little (fill and roundness ranges of the classes overlap once blurred).
import type { Shape } from './palette';
import type { Region, Segmentation } from './regions';

export interface ShapeFeatures {
  /** Pixels of the binary mask (soft mask >= 0.5). */
  area: number;
  /** Sum of the soft mask (coverage / peak, clipped to [0, 1]) over the region and its 1-px ring. */
  softArea: number;
  /** Interior coverage level (see regionPeak); the soft mask is coverage / peak. */
  peak: number;
  bbox: { x: number; y: number; width: number; height: number };
  /** Soft centroid in pixel coordinates (pixel centres at +0.5). */
  centroid: { x: number; y: number };
  fill: number;
  roundness: number;
  tri: number;
  quad: number;
  /** 1 - sqrt(minor / major second moment): 0 for discs, squares, equilateral triangles; 0.5 for a 1:4 ellipse. */
  elongation: number;
  /** Whether the region touches the image border (its shape is then cut and less reliable). */
  touchesBorder: boolean;
}

/**
 * Coverage level of a region's interior: the 80th percentile of its pixels' coverage along its colour.
 * 1 for a rendered shape; lower when a generated image draws the colour washed out.
 */
export function regionPeak(seg: Segmentation, region: Region): number {
  const K = seg.colours.length;
  const k = seg.colours.indexOf(region.colour);
  const v = region.pixels.map((p) => seg.coverageByColour[p * K + k]).sort((a, b) => a - b);
  return Math.max(1e-6, v[Math.min(v.length - 1, Math.floor(0.8 * v.length))]);
}

export function regionFeatures(seg: Segmentation, region: Region): ShapeFeatures {
  const { width, height } = seg;
  const K = seg.colours.length;
  const k = seg.colours.indexOf(region.colour);
  const inRegion = new Set(region.pixels);
  const peak = regionPeak(seg, region);
  const clip = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
  // Soft mask (coverage relative to the interior level) over the region and the 8-neighbour ring that no
  // other object claims; the binary mask is its half-maximum level set, the contour that blurring a
  // straight edge leaves in place (for a rendered shape: scenes.py's own masks, coverage >= 0.5).
  const weights = new Map<number, number>();
  for (const p of region.pixels) weights.set(p, clip(seg.coverageByColour[p * K + k] / peak));
  for (const p of region.pixels) {
    const x = p % width;
    const y = (p - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (inRegion.has(q) || weights.has(q) || seg.labels[q] >= 0) continue;
        weights.set(q, clip(seg.coverageByColour[q * K + k] / peak));
      }
    }
  }
  const mask: number[] = [];
  for (const [p, w] of weights) if (w >= 0.5) mask.push(p);
  if (mask.length === 0) mask.push(...region.pixels);

  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let touchesBorder = false;
  for (const p of mask) {
    const x = p % width;
    const y = (p - x) / width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    if (x === 0 || y === 0 || x === width - 1 || y === height - 1) touchesBorder = true;
  }
  let m00 = 0;
  let mx = 0;
  let my = 0;
  for (const [p, w] of weights) {
    const x = p % width;
    const y = (p - x) / width;
    m00 += w;
    mx += w * (x + 0.5);
    my += w * (y + 0.5);
  }
  const cx = m00 > 0 ? mx / m00 : (x0 + x1 + 1) / 2;
  const cy = m00 > 0 ? my / m00 : (y0 + y1 + 1) / 2;
  // Second moments -> elongation and an area-preserving whitening transform: the complex moments are taken
  // after mapping the shape's covariance ellipse to a circle, so that an elongated blob (an ellipse) reads as
  // a disc rather than as a square, while squares, equilateral triangles and discs (isotropic already) are
  // unchanged. Affine maps keep triangles triangles and take rectangles to squares.
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [p, w] of weights) {
    const x = (p % width) + 0.5 - cx;
    const y = Math.floor(p / width) + 0.5 - cy;
    sxx += w * x * x;
    sxy += w * x * y;
    syy += w * y * y;
  }
  const { transform, elongation } = whitening(sxx, sxy, syy);
  const [ta, tb, tc] = transform;
  let c11 = 0;
  let c3r = 0;
  let c3i = 0;
  let c4r = 0;
  let c4i = 0;
  for (const [p, w] of weights) {
    const x0 = (p % width) + 0.5 - cx;
    const y0 = Math.floor(p / width) + 0.5 - cy;
    const x = ta * x0 + tb * y0;
    const y = tb * x0 + tc * y0;
    c11 += w * (x * x + y * y);
    // z^2 = (x^2 - y^2) + i 2xy; z^3 = z^2 z; z^4 = (z^2)^2
    const z2r = x * x - y * y;
    const z2i = 2 * x * y;
    c3r += w * (z2r * x - z2i * y);
    c3i += w * (z2r * y + z2i * x);
    c4r += w * (z2r * z2r - z2i * z2i);
    c4i += w * (2 * z2r * z2i);
  }
  // binary centroid for the enclosing radius
  let bx = 0;
  let by = 0;
  for (const p of mask) {
    bx += (p % width) + 0.5;
    by += Math.floor(p / width) + 0.5;
  }
  bx /= mask.length;
  by /= mask.length;
  let rmax = 0;
  for (const p of mask) {
    const d = Math.hypot((p % width) + 0.5 - bx, Math.floor(p / width) + 0.5 - by);
    if (d > rmax) rmax = d;
  }
  const area = mask.length;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const r = rmax + 0.5;
  return {
    area,
    softArea: m00,
    peak,
    bbox: { x: x0, y: y0, width: bw, height: bh },
    centroid: { x: cx, y: cy },
    fill: area / (bw * bh),
    roundness: area / (Math.PI * r * r),
    // scale-free: |c30| ~ L^5, sqrt(c11) ~ L^2, m00^1.5 ~ L^3; |c40| ~ L^6, c11 * m00 ~ L^6
    tri: c11 > 0 ? Math.hypot(c3r, c3i) / (Math.sqrt(c11) * Math.pow(m00, 1.5)) : 0,
    quad: c11 > 0 ? Math.hypot(c4r, c4i) / (c11 * m00) : 0,
    elongation,
    touchesBorder,
  };
}

/**
 * Symmetric 2x2 matrix [[a, b], [b, c]] = det(S)^(1/4) S^(-1/2) for the second-moment matrix S (area-preserving
 * whitening), and the elongation 1 - sqrt(l_min / l_max) of S's eigenvalues (0 for isotropic shapes).
 */
export function whitening(sxx: number, sxy: number, syy: number): { transform: [number, number, number]; elongation: number } {
  const tr = sxx + syy;
  const det = sxx * syy - sxy * sxy;
  if (!(tr > 0) || !(det > 0)) return { transform: [1, 0, 1], elongation: 0 };
  const disc = Math.sqrt(Math.max(0, ((sxx - syy) / 2) ** 2 + sxy * sxy));
  const l1 = tr / 2 + disc;
  const l2 = tr / 2 - disc;
  // eigenvector of l1: (sxy, l1 - sxx) or (l1 - syy, sxy), whichever is better conditioned
  let vx = sxy;
  let vy = l1 - sxx;
  if (Math.hypot(vx, vy) < 1e-12 * tr) {
    vx = l1 - syy;
    vy = sxy;
  }
  const norm = Math.hypot(vx, vy);
  if (norm === 0 || l2 <= 0) return { transform: [1, 0, 1], elongation: disc > 0 ? 1 : 0 };
  vx /= norm;
  vy /= norm;
  const scale = Math.sqrt(Math.sqrt(l1 * l2));
  const f1 = scale / Math.sqrt(l1);
  const f2 = scale / Math.sqrt(l2);
  // f1 v v^T + f2 (I - v v^T)
  const a = f2 + (f1 - f2) * vx * vx;
  const b = (f1 - f2) * vx * vy;
  const c = f2 + (f1 - f2) * vy * vy;
  return { transform: [a, b, c], elongation: 1 - Math.sqrt(l2 / l1) };
}

/**
 * Shape decision from the two moment features. On 2,000 rendered tuning scenes (seeds 100000-101999, not
 * the test fixture) the features are: tri 0.150-0.155 for triangles and <= 0.004 otherwise; quad 0.096-0.101
 * for squares and <= 0.011 otherwise. The thresholds (tri 0.06, quad 0.05) sit at about 40-50 % of the rendered
 * values, a compromise between two ways generated images differ from renders, both simulated on the tuning
 * scenes: blur (rounds corners, lowers both features; favours low thresholds) and lumpy outlines (add z^3 and
 * z^4 moments to every shape; favour high ones). With blur 0.9 px + noise 10/255 + 20 % washed out, 99.9 %
 * of the tuning objects kept their shape; with outlines wobbling by up to 10 % of the radius, 100 %; with
 * blur 1.2 px + noise 16/255 + 30 % washed out, 94 %; with 20 % wobble, 87 %. When both features pass
 * (irregular blobs), the one further above its threshold wins.
 */
export interface ShapeThresholds {
  /** `tri` at or above this: triangle. Default 0.06. */
  triangle: number;
  /** `quad` at or above this: square. Default 0.05. */
  square: number;
}

export const SHAPE_THRESHOLDS: Readonly<ShapeThresholds> = { triangle: 0.06, square: 0.05 };

/** The moment features of ideal rendered shapes (medians on the tuning scenes), for scores in [0, ~1]. */
export const RENDERED_TRI = 0.153;
export const RENDERED_QUAD = 0.099;

export interface ShapeDecision {
  shape: Shape;
  /** tri / RENDERED_TRI and quad / RENDERED_QUAD: about 1 for a clean triangle resp. square, about 0 for a disc. */
  triangleScore: number;
  squareScore: number;
}

export function classifyShape(f: ShapeFeatures, t: ShapeThresholds = SHAPE_THRESHOLDS): ShapeDecision {
  const triangleScore = f.tri / RENDERED_TRI;
  const squareScore = f.quad / RENDERED_QUAD;
  const isTri = f.tri >= t.triangle;
  const isSquare = f.quad >= t.square;
  let shape: Shape = 'circle';
  if (isTri && isSquare) shape = f.tri / t.triangle >= f.quad / t.square ? 'triangle' : 'square';
  else if (isTri) shape = 'triangle';
  else if (isSquare) shape = 'square';
  return { shape, triangleScore, squareScore };
}
