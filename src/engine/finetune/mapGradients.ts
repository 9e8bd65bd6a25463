/**
 * The link between the loss's object maps and each S&E layer's attention
 * probabilities (docs/method.md §1), forward and backward, so dL/dM can be
 * scattered onto every layer's dA and then through that layer's softmax.
 *
 * Object k's map is the mean over the chosen layers (the 16x16-equivalent
 * grid) of the probabilities of its tokens, themselves averaged when an
 * object spans several tokens:
 *   keepHeads: M[h, k, q] = 1/L     * sum_l            mean_{t in T_k} A_l[h, q, t]
 *   averaged:  M[0, k, q] = 1/sum_l H_l * sum_l sum_h  mean_{t in T_k} A_l[h, q, t]
 * The averaged form pools every (layer, head) equally, like
 * SeparateEnhanceAggregator (the same as a mean of per-layer head means when
 * every layer has as many heads, as in SD 1.x).
 * Both are linear, so the backward is the same weights, scattered.
 */

/** Probabilities of one layer at the loss's step, `[heads, Nq, tokens]`. */
export interface LayerProbs {
  readonly heads: number;
  readonly probs: ArrayLike<number>;
}

export interface MapLayout {
  readonly height: number;
  readonly width: number;
  /** Token positions of the sequence (T, e.g. 77). */
  readonly tokens: number;
  /** Token positions of each object (K >= 1 lists, each non-empty). */
  readonly objects: readonly (readonly number[])[];
  /** Keep heads apart (the official loss maxes over them); otherwise average them. */
  readonly keepHeads: boolean;
}

/** Object maps `[heads or 1, K, height, width]`, float64. */
export interface ObjectMaps {
  readonly heads: number;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float64Array;
}

function check(layers: readonly { readonly heads: number }[], layout: MapLayout, sizes?: readonly number[]): number {
  const { height, width, tokens, objects, keepHeads } = layout;
  if (layers.length === 0) throw new Error('object maps need at least one layer');
  if (objects.length === 0) throw new Error('object maps need at least one object');
  objects.forEach((toks, k) => {
    if (toks.length === 0) throw new Error(`object ${k} has no tokens`);
    for (const t of toks) if (!(Number.isInteger(t) && t >= 0 && t < tokens)) throw new Error(`object ${k}: token ${t} is outside 0..${tokens - 1}`);
  });
  const heads = layers[0].heads;
  if (keepHeads && layers.some((l) => l.heads !== heads)) throw new Error('keepHeads needs the same number of heads in every layer');
  layers.forEach((l, i) => {
    const n = l.heads * height * width * tokens;
    if (sizes !== undefined && sizes[i] !== n) throw new Error(`layer ${i}: expected ${l.heads}x${height * width}x${tokens} = ${n} values, got ${sizes[i]}`);
  });
  return keepHeads ? heads : 1;
}

/** Weight of A_l[h, q, t] in M[slot, k, q] for t in T_k: 1 / (layers * |T_k|), or 1 / (total heads * |T_k|). */
function layerWeight(layers: readonly { readonly heads: number }[], keepHeads: boolean): number {
  return keepHeads ? 1 / layers.length : 1 / layers.reduce((a, l) => a + l.heads, 0);
}

export function objectMaps(layers: readonly LayerProbs[], layout: MapLayout): ObjectMaps {
  const slots = check(layers, layout, layers.map((l) => l.probs.length));
  const { height, width, tokens, objects, keepHeads } = layout;
  const nq = height * width;
  const K = objects.length;
  const data = new Float64Array(slots * K * nq);
  const w = layerWeight(layers, keepHeads);
  for (const layer of layers) {
    for (let h = 0; h < layer.heads; h++) {
      const slot = keepHeads ? h : 0;
      for (let k = 0; k < K; k++) {
        const toks = objects[k];
        const wk = w / toks.length;
        const out = (slot * K + k) * nq;
        for (let q = 0; q < nq; q++) {
          const row = (h * nq + q) * tokens;
          let s = 0;
          for (const t of toks) s += layer.probs[row + t];
          data[out + q] += wk * s;
        }
      }
    }
  }
  return { heads: slots, count: K, height, width, data };
}

/**
 * Scatters dL/dM (`[heads or 1, K, height, width]`) onto each layer's
 * dL/dA_l, `[heads_l, Nq, tokens]` float64 (zero outside the object tokens).
 * A token shared by two objects gets both contributions.
 */
export function mapGradToProbs(dM: ArrayLike<number>, layerHeads: readonly number[], layout: MapLayout): Float64Array[] {
  const layers = layerHeads.map((heads) => ({ heads }));
  const slots = check(layers, layout);
  const { height, width, tokens, objects, keepHeads } = layout;
  const nq = height * width;
  const K = objects.length;
  if (dM.length !== slots * K * nq) throw new Error(`mapGradToProbs: expected ${slots}x${K}x${nq} values, got ${dM.length}`);
  const w = layerWeight(layers, keepHeads);
  return layers.map((layer) => {
    const dA = new Float64Array(layer.heads * nq * tokens);
    for (let h = 0; h < layer.heads; h++) {
      const slot = keepHeads ? h : 0;
      for (let k = 0; k < K; k++) {
        const toks = objects[k];
        const wk = w / toks.length;
        const src = (slot * K + k) * nq;
        for (let q = 0; q < nq; q++) {
          const g = dM[src + q];
          if (g === 0) continue;
          const row = (h * nq + q) * tokens;
          for (const t of toks) dA[row + t] += wk * g;
        }
      }
    }
    return dA;
  });
}
