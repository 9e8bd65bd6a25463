/**
 * dL/dW_k of one cross-attention layer from dL/dA of its probabilities
 * (method.md §4), using only tensors the forward already has: the queries,
 * the text embeddings and the probabilities. This is the layer-local gradient
 * (queries are treated as inputs); the approximation is measured elsewhere.
 *
 * Layouts (row-major):
 *   Q  [heads, Nq, d]   queries before scaling (the graph's q, heads split out)
 *   e  [T, D]           text-encoder output of the same sample
 *   Wt [D, inner]       the key weight as the graph multiplies it, K = e Wt,
 *                       inner = heads * d, head h owns columns h*d .. h*d+d-1
 *   A, dA [heads, Nq, T]
 * With S = scale * Q_h K_h^T (scale = 1/sqrt(d) by default), A = softmax_t(S):
 *   dS   = A ⊙ (dA − rowsum(dA ⊙ A))
 *   dK_h = scale * dS^T Q_h                 [T, d] into K's column block h
 *   dWt  = e^T dK                           [D, inner]
 * torch keeps to_k.weight as [inner, D] = Wt^T: see `toTorchLayout`.
 */

export interface KeyShape {
  readonly heads: number;
  /** Query positions Nq. */
  readonly queries: number;
  /** Head dim d. */
  readonly headDim: number;
  /** Token positions T. */
  readonly tokens: number;
  /** Text embedding width D. */
  readonly embedDim: number;
  /** Logit scale; default 1 / sqrt(headDim). */
  readonly scale?: number;
}

export interface KeyGradSample {
  /** Q `[heads, Nq, d]`. */
  readonly q: ArrayLike<number>;
  /** e `[T, D]`. */
  readonly e: ArrayLike<number>;
  /** A `[heads, Nq, T]` (the graph's probabilities, or `attentionProbs`). */
  readonly probs: ArrayLike<number>;
  /** dL/dA `[heads, Nq, T]`. */
  readonly dProbs: ArrayLike<number>;
}

function checkLen(what: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n) throw new Error(`${what}: expected ${n} values, got ${a.length}`);
}

function scaleOf(s: KeyShape): number {
  return s.scale ?? 1 / Math.sqrt(s.headDim);
}

/** The forward A = softmax_t(scale * Q_h (e Wt)_h^T), `[heads, Nq, T]` float64 (for tests and references). */
export function attentionProbs(shape: KeyShape, q: ArrayLike<number>, e: ArrayLike<number>, wt: ArrayLike<number>): Float64Array {
  const { heads, queries: nq, headDim: d, tokens: T, embedDim: D } = shape;
  const inner = heads * d;
  checkLen('q', q, heads * nq * d);
  checkLen('e', e, T * D);
  checkLen('Wt', wt, D * inner);
  const scale = scaleOf(shape);
  const k = new Float64Array(T * inner);
  for (let t = 0; t < T; t++) for (let a = 0; a < D; a++) {
    const ev = e[t * D + a];
    for (let c = 0; c < inner; c++) k[t * inner + c] += ev * wt[a * inner + c];
  }
  const out = new Float64Array(heads * nq * T);
  for (let h = 0; h < heads; h++) for (let i = 0; i < nq; i++) {
    const row = (h * nq + i) * T;
    let m = -Infinity;
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[(h * nq + i) * d + j] * k[t * inner + h * d + j];
      out[row + t] = s * scale;
      if (out[row + t] > m) m = out[row + t];
    }
    let z = 0;
    for (let t = 0; t < T; t++) z += out[row + t] = Math.exp(out[row + t] - m);
    for (let t = 0; t < T; t++) out[row + t] /= z;
  }
  return out;
}

/**
 * dL/dWt `[D, inner]` float64, summed over `samples` (the batch), added into
 * `into` when given (e.g. to sum the main loss and a regulariser).
 */
export function keyWeightGradient(shape: KeyShape, samples: readonly KeyGradSample[], into?: Float64Array): Float64Array {
  const { heads, queries: nq, headDim: d, tokens: T, embedDim: D } = shape;
  const inner = heads * d;
  const scale = scaleOf(shape);
  const out = into ?? new Float64Array(D * inner);
  checkLen('gradient buffer', out, D * inner);
  const dK = new Float64Array(T * inner);
  const dS = new Float64Array(T);
  for (const s of samples) {
    checkLen('q', s.q, heads * nq * d);
    checkLen('e', s.e, T * D);
    checkLen('probs', s.probs, heads * nq * T);
    checkLen('dProbs', s.dProbs, heads * nq * T);
    dK.fill(0);
    for (let h = 0; h < heads; h++) for (let i = 0; i < nq; i++) {
      const row = (h * nq + i) * T;
      let dot = 0;
      let any = false;
      for (let t = 0; t < T; t++) {
        const g = s.dProbs[row + t];
        if (g !== 0) any = true;
        dot += g * s.probs[row + t];
      }
      // Rows with no gradient (most of them: the loss reads one pixel) add nothing.
      if (!any) continue;
      for (let t = 0; t < T; t++) dS[t] = s.probs[row + t] * (s.dProbs[row + t] - dot) * scale;
      const qRow = (h * nq + i) * d;
      for (let t = 0; t < T; t++) {
        const g = dS[t];
        if (g === 0) continue;
        const kRow = t * inner + h * d;
        for (let j = 0; j < d; j++) dK[kRow + j] += g * s.q[qRow + j];
      }
    }
    for (let t = 0; t < T; t++) for (let a = 0; a < D; a++) {
      const ev = s.e[t * D + a];
      if (ev === 0) continue;
      const dst = a * inner;
      const src = t * inner;
      for (let c = 0; c < inner; c++) out[dst + c] += ev * dK[src + c];
    }
  }
  return out;
}

/** Transposes `[rows, cols]` to `[cols, rows]`: graph layout Wt [D, inner] <-> torch's to_k.weight [inner, D]. */
export function transpose2d(m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  checkLen('matrix', m, rows * cols);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** dL/dWt `[D, inner]` as torch's `to_k.weight.grad` `[inner, D]`. */
export function toTorchLayout(gradWt: ArrayLike<number>, embedDim: number, inner: number): Float64Array {
  return transpose2d(gradWt, embedDim, inner);
}
