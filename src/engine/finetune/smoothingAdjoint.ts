/**
 * The exact adjoint (transpose) of `gaussianSmooth3x3` in
 * src/engine/attention/smoothing.ts, so the Enhance loss can be
 * back-propagated through the same smoothing the debugger shows.
 *
 * The forward is separable, out = Sy (Sx m), with each 1-D operator
 * S[i, j] = sum of the taps that read source j for output i after PyTorch
 * 'reflect' padding (index -1 reads 1, index n reads n-2). The adjoint is
 * m_bar = Sx^T (Sy^T g): every output scatters its gradient, times each tap,
 * back onto the (reflected) source it read. Reflected borders therefore get
 * two contributions, which is exactly what a transpose needs.
 */
import { GAUSSIAN_TAPS } from '../attention/smoothing';

function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/** Gradient w.r.t. the input of `gaussianSmooth3x3(src, planes, h, w)` given the gradient `g` w.r.t. its output. */
export function gaussianSmooth3x3Adjoint(g: ArrayLike<number>, planes: number, h: number, w: number): Float64Array {
  if (h < 2 || w < 2) throw new Error(`reflect padding needs maps of at least 2x2, got ${h}x${w}`);
  if (g.length !== planes * h * w) throw new Error(`gaussianSmooth3x3Adjoint: expected ${planes}x${h}x${w} values, got ${g.length}`);
  const [side, centre] = GAUSSIAN_TAPS;
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
        tmp[up + x] += side * v;
        tmp[y * w + x] += centre * v;
        tmp[down + x] += side * v;
      }
    }
    // Transpose of the horizontal pass.
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        const v = tmp[row + x];
        if (v === 0) continue;
        out[base + row + reflect(x - 1, w)] += side * v;
        out[base + row + x] += centre * v;
        out[base + row + reflect(x + 1, w)] += side * v;
      }
    }
  }
  return out;
}
