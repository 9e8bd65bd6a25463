/**
 * DAAM-style masks: each map binarised at `threshold` x its own max, then
 * IoU and intersection-over-area for every pair of objects. The maps are
 * head means (a mask is a display notion, not a per-head one): the engine
 * averages the heads first, the results view's threshold slider gets them so.
 */

/** One map per object, heads already averaged: Float32 `[count, height, width]`. */
export interface ObjectMaps {
  readonly height: number;
  readonly width: number;
  readonly count: number;
  readonly data: Float32Array;
}

export interface MaskOptions {
  /** Fraction of each map's max; default 0.4 (DAAM). */
  readonly threshold?: number;
}

export interface PairOverlap {
  readonly a: number;
  readonly b: number;
  readonly intersection: number;
  readonly union: number;
  readonly iou: number;
  /** |A ∩ B| / |A|: how much of a's mask b covers. */
  readonly ioaA: number;
  /** |A ∩ B| / |B|. */
  readonly ioaB: number;
}

export interface MaskScores {
  /** `[K, h, w]`, 1 inside the mask. */
  readonly masks: Uint8Array;
  /** Pixels in each mask. */
  readonly areas: readonly number[];
  /** Every pair a < b. */
  readonly pairs: readonly PairOverlap[];
}

/** 0 when the denominator is 0: an empty mask overlaps nothing (avoids 0/0 = NaN). */
function ratio(num: number, den: number): number {
  return den > 0 ? num / den : 0;
}

export function maskOverlaps(maps: ObjectMaps, options: MaskOptions = {}): MaskScores {
  const threshold = options.threshold ?? 0.4;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`mask threshold must be in [0, 1], got ${threshold}`);
  const hw = maps.height * maps.width;
  const masks = new Uint8Array(maps.count * hw);
  const areas: number[] = [];
  for (let k = 0; k < maps.count; k++) {
    let max = -Infinity;
    for (let p = 0; p < hw; p++) max = Math.max(max, maps.data[k * hw + p]);
    let area = 0;
    // An all-zero map has no normalised heat: its mask stays empty rather than covering everything.
    if (max > 0) {
      const cut = threshold * max;
      for (let p = 0; p < hw; p++) {
        if (maps.data[k * hw + p] >= cut) {
          masks[k * hw + p] = 1;
          area++;
        }
      }
    }
    areas.push(area);
  }
  const pairs: PairOverlap[] = [];
  for (let a = 0; a < maps.count; a++) {
    for (let b = a + 1; b < maps.count; b++) {
      let intersection = 0;
      for (let p = 0; p < hw; p++) intersection += masks[a * hw + p] & masks[b * hw + p];
      const union = areas[a] + areas[b] - intersection;
      pairs.push({
        a,
        b,
        intersection,
        union,
        iou: ratio(intersection, union),
        ioaA: ratio(intersection, areas[a]),
        ioaB: ratio(intersection, areas[b]),
      });
    }
  }
  return { masks, areas, pairs };
}

/**
 * `[K, h, w]` masks to a display grid, nearest-neighbour: a mask stays a mask, and each S&E cell covers a block of
 * display cells (the run's masks and the results view's threshold slider alike).
 */
export function upsampleMasks(masks: Uint8Array, count: number, h: number, w: number, outH: number, outW: number): Uint8Array {
  const out = new Uint8Array(count * outH * outW);
  for (let k = 0; k < count; k++) {
    for (let y = 0; y < outH; y++) {
      const sy = Math.min(h - 1, Math.floor((y * h) / outH));
      for (let x = 0; x < outW; x++) out[(k * outH + y) * outW + x] = masks[(k * h + sy) * w + Math.min(w - 1, Math.floor((x * w) / outW))];
    }
  }
  return out;
}
