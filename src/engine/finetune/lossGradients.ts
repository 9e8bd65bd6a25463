/**
 * Separate-and-Enhance's loss on one sample's object maps and its
 * (sub)gradient w.r.t. those maps (docs/method.md §2): the values are the
 * debugger's own (attention/scores.ts computes them, so the loss the finetune
 * sees is the number the debugger shows); this module adds the backward step.
 *
 *   L_sep = max_{head, x} prod_i M^i / sum_i M^i
 *   a_i   = max_{head, x} (G * M^i),   L_en = 1 - min_i a_i
 *   L     = wSep * L_sep + wEn * L_en          (official 1.0 / 0.5)
 *
 * Subgradients of max/min put all the weight on one element, the one
 * scores.ts reports:
 *  - ties in a max over (head, pixel) go to the first in scan order
 *    (head-major, then row-major pixel);
 *  - ties in the min over objects go to the lowest object index.
 * At a tie the function is not differentiable; this picks one valid
 * subgradient (a one-sided derivative), never a split.
 * Where sum_i M^i <= SUM_EPS the ratio is defined as 0 (scores.ts) and its
 * gradient as 0.
 * The batch mean is the caller's: scale each sample's gradient by 1/B.
 */
import { activation, overlap, sepEnTotal, SUM_EPS, type LossWeights, type PixelRef, type ScoreMaps } from '../attention/scores';
import { gaussianSmooth3x3Adjoint } from '../attention/smoothing';

export interface SepEnLoss {
  /** wSep * L_sep + wEn * L_en. */
  readonly total: number;
  /** L_sep (unweighted). */
  readonly separate: number;
  /** L_en (unweighted). */
  readonly enhance: number;
  readonly separateAt: PixelRef;
  /** a_i per object. */
  readonly peaks: readonly number[];
  readonly peakAt: readonly PixelRef[];
  /** Index of the object whose peak is the min. */
  readonly weakest: number;
  /** dL/dM, same layout as the maps, float64. */
  readonly grad: Float64Array;
}

export function sepEnLossAndGrad(maps: ScoreMaps, weights: LossWeights = {}): SepEnLoss {
  const { heads, count, height, width, data } = maps;
  const hw = height * width;
  if (!(heads >= 1 && count >= 2 && hw >= 1)) throw new Error(`sepEnLoss needs heads >= 1 and at least 2 objects, got heads=${heads}, count=${count}`);
  if (data.length !== heads * count * hw) throw new Error(`sepEnLoss: expected ${heads * count * hw} values, got ${data.length}`);
  const wSep = weights.separate ?? 1.0;
  const wEn = weights.enhance ?? 0.5;
  const separate = overlap(maps);
  const enhance = activation(maps);
  const grad = new Float64Array(data.length);

  if (wSep !== 0) {
    // d(P/S)/dM_j = (prod_{i != j} M_i) / S - P / S^2 at the argmax pixel, the
    // leave-one-out product from prefix/suffix products so that zeros need no division.
    const { head: h } = separate.at;
    const p = separate.at.y * width + separate.at.x;
    const v = Array.from({ length: count }, (_, k) => data[(h * count + k) * hw + p]);
    const sum = v.reduce((a, b) => a + b, 0);
    if (sum > SUM_EPS) {
      const prefix = new Float64Array(count + 1);
      prefix[0] = 1;
      for (let k = 0; k < count; k++) prefix[k + 1] = prefix[k] * v[k];
      let suffix = 1;
      for (let k = count - 1; k >= 0; k--) {
        const others = prefix[k] * suffix;
        grad[(h * count + k) * hw + p] += wSep * (others / sum - prefix[count] / (sum * sum));
        suffix *= v[k];
      }
    }
  }
  if (wEn !== 0) {
    // dL_en/d(G*M)[weakest peak] = -1; push it back through G's adjoint on that one plane.
    const { head: h, y, x } = enhance.peakAt[enhance.weakest];
    const g = new Float64Array(hw);
    g[y * width + x] = -wEn;
    const back = gaussianSmooth3x3Adjoint(g, 1, height, width);
    const base = (h * count + enhance.weakest) * hw;
    for (let i = 0; i < hw; i++) grad[base + i] += back[i];
  }

  return {
    total: sepEnTotal(separate.value, enhance.value, weights),
    separate: separate.value,
    enhance: enhance.value,
    separateAt: separate.at,
    peaks: enhance.peaks,
    peakAt: enhance.peakAt,
    weakest: enhance.weakest,
    grad,
  };
}
