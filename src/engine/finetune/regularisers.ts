/**
 * Layer-local stand-ins for the official L_norm regulariser (method.md §3),
 * which needs a full UNet backward we cannot do. Either keeps single-object
 * behaviour close to the frozen model; how well is measured elsewhere.
 *  (a) keyPull:       lambda * ||W - W0||^2, grad 2 lambda (W - W0)
 *  (b) attentionKeep: weight * mean over all entries of (A - A_frozen)^2 on
 *      the single-object prompts' probabilities; its dA goes through
 *      keyGradient exactly like the main loss's.
 */

export interface Regulariser {
  readonly value: number;
}

/**
 * L2 pull of one weight toward its original (any layout, elementwise).
 * The gradient is added into `grad` when given, else returned fresh.
 */
export function keyPull(w: ArrayLike<number>, w0: ArrayLike<number>, lambda: number, grad?: Float64Array): Regulariser & { readonly grad: Float64Array } {
  if (w.length !== w0.length) throw new Error(`keyPull: ${w.length} weights vs ${w0.length} originals`);
  const g = grad ?? new Float64Array(w.length);
  if (g.length !== w.length) throw new Error(`keyPull: gradient buffer has ${g.length} values, weights ${w.length}`);
  let sq = 0;
  for (let i = 0; i < w.length; i++) {
    const diff = w[i] - w0[i];
    sq += diff * diff;
    g[i] += 2 * lambda * diff;
  }
  return { value: lambda * sq, grad: g };
}

/**
 * weight * mean (A - A_frozen)^2 over every entry of every given layer
 * (one mean over all of them together: N = total entries). Returns dL/dA per
 * layer, `[heads, Nq, T]` float64 like the inputs, to feed keyWeightGradient.
 */
export function attentionKeep(
  probs: readonly ArrayLike<number>[],
  frozen: readonly ArrayLike<number>[],
  weight: number,
): Regulariser & { readonly dProbs: Float64Array[] } {
  if (probs.length !== frozen.length) throw new Error(`attentionKeep: ${probs.length} layers vs ${frozen.length} frozen`);
  let n = 0;
  probs.forEach((a, l) => {
    if (a.length !== frozen[l].length) throw new Error(`attentionKeep: layer ${l} has ${a.length} values, frozen ${frozen[l].length}`);
    n += a.length;
  });
  if (n === 0) throw new Error('attentionKeep: no probabilities given');
  let sq = 0;
  const dProbs = probs.map((a, l) => {
    const f = frozen[l];
    const d = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const diff = a[i] - f[i];
      sq += diff * diff;
      d[i] = (2 * weight * diff) / n;
    }
    return d;
  });
  return { value: (weight * sq) / n, dProbs };
}
