/**
 * Separate-and-Enhance's loss on one sample's object maps and its
 * (sub)gradient w.r.t. those maps (method.md §2), the first link of the
 * hand-written backward pass onnxruntime-node cannot do for us.
 *
 *   L_sep = max_{head, x} prod_i M^i / sum_i M^i
 *   a_i   = max_{head, x} (G * M^i),   L_en = 1 - min_i a_i
 *   L     = wSep * L_sep + wEn * L_en          (official 1.0 / 0.5)
 *
 * Values are computed exactly as src/engine/attention/scores.ts does (same
 * loops, same smoothing), so the loss the finetune sees is the number the
 * debugger shows.
 *
 * Subgradients of max/min put all the weight on one element:
 *  - ties in a max over (head, pixel) go to the first in scan order
 *    (head-major, then row-major pixel), as scores.ts reports it;
 *  - ties in the min over objects go to the lowest object index.
 * At a tie the function is not differentiable; this picks one valid
 * subgradient (a one-sided derivative), never a split.
 * Where sum_i M^i <= SUM_EPS the ratio is defined as 0 (scores.ts) and its
 * gradient as 0.
 * The batch mean is the caller's: scale each sample's gradient by 1/B.
 */
import { gaussianSmooth3x3 } from '../attention/smoothing';
import { SUM_EPS } from '../attention/scores';
import { gaussianSmooth3x3Adjoint } from './smoothingAdjoint';

/** K object maps per head, `[heads, count, height, width]`, float32 or float64. */
export interface LossMaps {
  readonly heads: number;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly data: ArrayLike<number>;
}

export interface LossWeights {
  /** Weight of L_sep; default 1.0 (official). */
  readonly separate?: number;
  /** Weight of L_en; default 0.5 (official). */
  readonly enhance?: number;
}

/** Where a max was taken: head and flat pixel index `y * width + x`. */
export interface MaxAt {
  readonly head: number;
  readonly pixel: number;
}

export interface SepEnLoss {
  /** wSep * L_sep + wEn * L_en. */
  readonly total: number;
  /** L_sep (unweighted). */
  readonly separate: number;
  /** L_en (unweighted). */
  readonly enhance: number;
  readonly separateAt: MaxAt;
  /** a_i per object. */
  readonly peaks: readonly number[];
  readonly peakAt: readonly MaxAt[];
  /** Index of the object whose peak is the min. */
  readonly weakest: number;
  /** dL/dM, same layout as the maps, float64. */
  readonly grad: Float64Array;
}

export function sepEnLossAndGrad(maps: LossMaps, weights: LossWeights = {}): SepEnLoss {
  const { heads, count, height, width, data } = maps;
  const hw = height * width;
  if (!(heads >= 1 && count >= 2 && hw >= 1)) throw new Error(`sepEnLoss needs heads >= 1 and at least 2 objects, got heads=${heads}, count=${count}`);
  if (data.length !== heads * count * hw) throw new Error(`sepEnLoss: expected ${heads * count * hw} values, got ${data.length}`);
  const wSep = weights.separate ?? 1.0;
  const wEn = weights.enhance ?? 0.5;
  const grad = new Float64Array(data.length);

  // Separate: the max of prod/sum over heads and pixels (same loop as scores.overlap).
  let separate = -Infinity;
  let separateAt: MaxAt = { head: 0, pixel: 0 };
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hw; p++) {
      let prod = 1;
      let sum = 0;
      for (let k = 0; k < count; k++) {
        const v = data[(h * count + k) * hw + p];
        prod *= v;
        sum += v;
      }
      const r = sum > SUM_EPS ? prod / sum : 0;
      if (r > separate) {
        separate = r;
        separateAt = { head: h, pixel: p };
      }
    }
  }
  {
    // d(P/S)/dM_j = (prod_{i != j} M_i) / S - P / S^2, the leave-one-out
    // product from prefix/suffix products so that zeros need no division.
    const { head: h, pixel: p } = separateAt;
    const v = Array.from({ length: count }, (_, k) => data[(h * count + k) * hw + p]);
    const sum = v.reduce((a, b) => a + b, 0);
    if (sum > SUM_EPS && wSep !== 0) {
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

  // Enhance: peaks of the smoothed maps (same smoothing and scan as scores.activation).
  const smooth = gaussianSmooth3x3(data, heads * count, height, width);
  const peaks: number[] = [];
  const peakAt: MaxAt[] = [];
  for (let k = 0; k < count; k++) {
    let best = -Infinity;
    let at: MaxAt = { head: 0, pixel: 0 };
    for (let h = 0; h < heads; h++) {
      const base = (h * count + k) * hw;
      for (let p = 0; p < hw; p++) {
        if (smooth[base + p] > best) {
          best = smooth[base + p];
          at = { head: h, pixel: p };
        }
      }
    }
    peaks.push(best);
    peakAt.push(at);
  }
  let weakest = 0;
  for (let k = 1; k < count; k++) if (peaks[k] < peaks[weakest]) weakest = k;
  const enhance = 1 - peaks[weakest];
  if (wEn !== 0) {
    // dL_en/d(G*M)[weakest peak] = -1; push it back through G's adjoint on that one plane.
    const { head: h, pixel: p } = peakAt[weakest];
    const g = new Float64Array(hw);
    g[p] = -wEn;
    const back = gaussianSmooth3x3Adjoint(g, 1, height, width);
    const base = (h * count + weakest) * hw;
    for (let i = 0; i < hw; i++) grad[base + i] += back[i];
  }

  return { total: wSep * separate + wEn * enhance, separate, enhance, separateAt, peaks, peakAt, weakest, grad };
}
