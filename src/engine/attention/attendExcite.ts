/**
 * Attend-and-Excite's per-token score (Chefer et al. 2023), offered next to
 * the S&E numbers: on head-averaged maps, drop the start token (it takes most
 * of the attention and would flatten the rest), scale the text tokens by 100
 * and softmax again over them per pixel, smooth with the 3x3 Gaussian, and
 * take the max. Their loss is max_i max(0, 1 - score_i).
 */
import { gaussianSmooth3x3 } from './smoothing';
import type { TokenMaps } from './types';

export interface AttendExciteOptions {
  /** Token positions of the objects (each in 1..endToken-1). */
  readonly objectTokens: readonly number[];
  /** Position of the end-of-text token; the softmax runs over tokens 1..endToken-1. */
  readonly endToken: number;
  /** Default 100. */
  readonly scale?: number;
}

export interface AttendExciteScore {
  readonly scores: readonly number[];
  readonly weakest: number;
  readonly loss: number;
}

export function attendExciteScores(maps: TokenMaps, options: AttendExciteOptions): AttendExciteScore {
  const { objectTokens, endToken } = options;
  const scale = options.scale ?? 100;
  if (!Number.isInteger(endToken) || endToken < 2 || endToken > maps.tokens) {
    throw new Error(`endToken must be in 2..${maps.tokens}, got ${endToken}`);
  }
  if (objectTokens.length === 0) throw new Error('attendExciteScores needs at least one object token');
  for (const t of objectTokens) {
    if (!Number.isInteger(t) || t < 1 || t >= endToken) throw new Error(`object token ${t} is not a text token (1..${endToken - 1})`);
  }
  const { height, width, heads, tokens } = maps;
  const hw = height * width;
  const n = endToken - 1;
  // Head mean of the text tokens, laid out [n, hw].
  const text = new Float64Array(n * hw);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < n; j++) {
      const src = (h * tokens + j + 1) * hw;
      for (let p = 0; p < hw; p++) text[j * hw + p] += maps.data[src + p] / heads;
    }
  }
  const soft = new Float64Array(objectTokens.length * hw);
  for (let p = 0; p < hw; p++) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, scale * text[j * hw + p]);
    let z = 0;
    // Subtracting the max keeps exp() finite; the softmax is unchanged.
    for (let j = 0; j < n; j++) z += Math.exp(scale * text[j * hw + p] - max);
    objectTokens.forEach((t, k) => {
      soft[k * hw + p] = Math.exp(scale * text[(t - 1) * hw + p] - max) / z;
    });
  }
  const smooth = gaussianSmooth3x3(soft, objectTokens.length, height, width);
  const scores = objectTokens.map((_, k) => {
    let best = -Infinity;
    for (let p = 0; p < hw; p++) best = Math.max(best, smooth[k * hw + p]);
    return best;
  });
  let weakest = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k] < scores[weakest]) weakest = k;
  return { scores, weakest, loss: Math.max(...scores.map((s) => Math.max(0, 1 - s))) };
}
