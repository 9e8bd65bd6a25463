/**
 * Separate-and-Enhance's two objectives (docs/method.md §2), which are also the
 * debugger's headline numbers, on K object maps `[heads, K, h, w]` of raw
 * probabilities (no renormalisation):
 *   overlap    L_sep = max_{x, head} prod_i M^i(x) / sum_i M^i(x)
 *   activation a_i = max_{x, head} (G * M^i)(x),  L_en = 1 - min_i a_i
 *   total      L = wSep * L_sep + wEn * L_en   (official 1.0 and 0.5)
 */
import { gaussianSmooth3x3 } from './smoothing';
import type { MapStack } from './types';

/** K object maps `[heads, count, height, width]`, float32 (the debugger's) or float64 (the finetune's). */
export type ScoreMaps = Omit<MapStack, 'data'> & { readonly data: ArrayLike<number> };

/**
 * Below this the per-pixel sum counts as zero. Softmax probabilities are never
 * 0, but clamped DAAM maps and padding can be; there every factor is 0 too,
 * so prod/sum tends to 0 (K >= 2) and we return 0 instead of 0/0 = NaN.
 */
export const SUM_EPS = 1e-12;

export interface PixelRef {
  readonly head: number;
  readonly y: number;
  readonly x: number;
}

export interface OverlapScore {
  /** L_sep. */
  readonly value: number;
  /** Where the max is. */
  readonly at: PixelRef;
  /** Per-pixel prod/sum, `[heads, h, w]`. */
  readonly map: Float32Array;
}

function checkStack(maps: ScoreMaps, minCount: number, what: string): void {
  const n = maps.heads * maps.count * maps.height * maps.width;
  if (maps.data.length !== n) throw new Error(`${what}: expected ${n} values, got ${maps.data.length}`);
  if (maps.count < minCount) throw new Error(`${what} needs at least ${minCount} object maps, got ${maps.count}`);
}

export function overlap(maps: ScoreMaps): OverlapScore {
  // With one object prod/sum is 1 everywhere: the score only means something for K >= 2.
  checkStack(maps, 2, 'overlap');
  const { heads, count, height, width } = maps;
  const hw = height * width;
  const map = new Float32Array(heads * hw);
  let value = -Infinity;
  let at: PixelRef = { head: 0, y: 0, x: 0 };
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hw; p++) {
      let prod = 1;
      let sum = 0;
      for (let k = 0; k < count; k++) {
        const v = maps.data[(h * count + k) * hw + p];
        prod *= v;
        sum += v;
      }
      const r = sum > SUM_EPS ? prod / sum : 0;
      map[h * hw + p] = r;
      if (r > value) {
        value = r;
        at = { head: h, y: Math.floor(p / width), x: p % width };
      }
    }
  }
  return { value, at, map };
}

export interface ActivationScore {
  /** a_i per object: the peak of its smoothed map over pixels and heads. */
  readonly peaks: readonly number[];
  readonly peakAt: readonly PixelRef[];
  /** Index of the weakest object (smallest peak). */
  readonly weakest: number;
  /** L_en = 1 - min_i a_i. */
  readonly value: number;
}

export function activation(maps: ScoreMaps): ActivationScore {
  checkStack(maps, 1, 'activation');
  const { heads, count, height, width } = maps;
  const hw = height * width;
  const smooth = gaussianSmooth3x3(maps.data, heads * count, height, width);
  const peaks: number[] = [];
  const peakAt: PixelRef[] = [];
  for (let k = 0; k < count; k++) {
    let best = -Infinity;
    let at: PixelRef = { head: 0, y: 0, x: 0 };
    for (let h = 0; h < heads; h++) {
      const base = (h * count + k) * hw;
      for (let p = 0; p < hw; p++) {
        if (smooth[base + p] > best) {
          best = smooth[base + p];
          at = { head: h, y: Math.floor(p / width), x: p % width };
        }
      }
    }
    peaks.push(best);
    peakAt.push(at);
  }
  let weakest = 0;
  for (let k = 1; k < count; k++) if (peaks[k] < peaks[weakest]) weakest = k;
  return { peaks, peakAt, weakest, value: 1 - peaks[weakest] };
}

export interface LossWeights {
  /** Weight of L_sep; default 1.0 (official). */
  readonly separate?: number;
  /** Weight of L_en; default 0.5 (official). */
  readonly enhance?: number;
}

/** L = wSep * L_sep + wEn * L_en: the run record's total and the finetune's loss. */
export function sepEnTotal(separate: number, enhance: number, weights: LossWeights = {}): number {
  return (weights.separate ?? 1.0) * separate + (weights.enhance ?? 0.5) * enhance;
}
