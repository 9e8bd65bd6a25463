/**
 * The 3x3 Gaussian both Separate-and-Enhance and Attend-and-Excite smooth
 * with before taking a peak, so one hot pixel does not count as an object.
 *
 * Their `GaussianSmoothing(kernel_size=3, sigma=0.5)` computes
 * exp(-((x - mean) / (2 sigma))^2), i.e. exp(-1) for the side taps; after
 * normalising, the 1-D taps are [e^-1, 1, e^-1] / (1 + 2 e^-1)
 * = [0.2119, 0.5761, 0.2119] (docs/method.md). The 2-D kernel is their outer
 * product, so the filter is applied separably. Padding is PyTorch's
 * 'reflect' (mirror without repeating the edge), as in the official code.
 */

const SIDE = Math.exp(-1) / (1 + 2 * Math.exp(-1));
const CENTRE = 1 / (1 + 2 * Math.exp(-1));

/** The 1-D taps [side, centre, side]. */
export const GAUSSIAN_TAPS: readonly [number, number, number] = [SIDE, CENTRE, SIDE];

/** Reflect index -1 -> 1 and n -> n-2. */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/** Smooths `planes` maps laid out `[planes, h, w]`; returns the same layout. */
export function gaussianSmooth3x3(src: ArrayLike<number>, planes: number, h: number, w: number): Float64Array {
  if (h < 2 || w < 2) throw new Error(`reflect padding needs maps of at least 2x2, got ${h}x${w}`);
  if (src.length !== planes * h * w) throw new Error(`gaussianSmooth3x3: expected ${planes}x${h}x${w} values, got ${src.length}`);
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const row = base + y * w;
        tmp[y * w + x] = SIDE * src[row + reflect(x - 1, w)] + CENTRE * src[row + x] + SIDE * src[row + reflect(x + 1, w)];
      }
    }
    for (let y = 0; y < h; y++) {
      const up = reflect(y - 1, h) * w;
      const down = reflect(y + 1, h) * w;
      for (let x = 0; x < w; x++) {
        out[base + y * w + x] = SIDE * tmp[up + x] + CENTRE * tmp[y * w + x] + SIDE * tmp[down + x];
      }
    }
  }
  return out;
}

/**
 * The exact adjoint (transpose) of `gaussianSmooth3x3`, so the Enhance loss can be back-propagated through
 * the same smoothing the debugger shows: the gradient w.r.t. its input given the gradient `g` w.r.t. its output.
 *
 * The forward is separable, out = Sy (Sx m), with each 1-D operator
 * S[i, j] = sum of the taps that read source j for output i after PyTorch
 * 'reflect' padding (index -1 reads 1, index n reads n-2). The adjoint is
 * m_bar = Sx^T (Sy^T g): every output scatters its gradient, times each tap,
 * back onto the (reflected) source it read. Reflected borders therefore get
 * two contributions, which is exactly what a transpose needs.
 */
export function gaussianSmooth3x3Adjoint(g: ArrayLike<number>, planes: number, h: number, w: number): Float64Array {
  if (h < 2 || w < 2) throw new Error(`reflect padding needs maps of at least 2x2, got ${h}x${w}`);
  if (g.length !== planes * h * w) throw new Error(`gaussianSmooth3x3Adjoint: expected ${planes}x${h}x${w} values, got ${g.length}`);
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(planes * h * w);
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    // Transpose of the vertical pass: output row y read rows y-1, y, y+1 (reflected).
    tmp.fill(0);
    for (let y = 0; y < h; y++) {
      const up = reflect(y - 1, h) * w;
      const down = reflect(y + 1, h) * w;
      for (let x = 0; x < w; x++) {
        const v = g[base + y * w + x];
        if (v === 0) continue;
        tmp[up + x] += SIDE * v;
        tmp[y * w + x] += CENTRE * v;
        tmp[down + x] += SIDE * v;
      }
    }
    // Transpose of the horizontal pass.
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        const v = tmp[row + x];
        if (v === 0) continue;
        out[base + row + reflect(x - 1, w)] += SIDE * v;
        out[base + row + x] += CENTRE * v;
        out[base + row + reflect(x + 1, w)] += SIDE * v;
      }
    }
  }
  return out;
}
