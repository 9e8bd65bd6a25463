/**
 * AdamW exactly as torch.optim.AdamW (amsgrad off, maximize off), the
 * official optimiser (docs/method.md §3), since onnxruntime-node has none.
 * Per parameter, at step t (1-based):
 *   p -= lr * wd * p                              (decoupled weight decay first)
 *   m  = b1 m + (1 - b1) g
 *   v  = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Parameters stay float32 (what the graph takes); moments and arithmetic are
 * float64, so results differ from torch's float32 path only by rounding.
 * Like torch, a parameter whose gradient is absent (`undefined`) is skipped
 * entirely: no decay, no step counted.
 */

export interface AdamWOptions {
  readonly lr: number;
  /** Default [0.9, 0.999]. */
  readonly betas?: readonly [number, number];
  /** Default 1e-8. */
  readonly eps?: number;
  /** Default 1e-2 (torch's AdamW default and the official setting). */
  readonly weightDecay?: number;
}

/** One parameter's state, as torch keeps it (step, exp_avg, exp_avg_sq). */
export interface AdamWState {
  step: number;
  readonly expAvg: Float64Array;
  readonly expAvgSq: Float64Array;
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly state: readonly AdamWState[];

  constructor(readonly params: readonly Float32Array[], options: AdamWOptions) {
    this.lr = options.lr;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    if (!(this.lr >= 0)) throw new Error(`AdamW: invalid learning rate ${this.lr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) throw new Error(`AdamW: invalid betas ${this.beta1}, ${this.beta2}`);
    if (!(this.eps >= 0) || !(this.weightDecay >= 0)) throw new Error('AdamW: eps and weight decay must be >= 0');
    this.state = params.map((p) => ({ step: 0, expAvg: new Float64Array(p.length), expAvgSq: new Float64Array(p.length) }));
  }

  /** Updates the parameters in place from `grads[i]` (same length as `params[i]`). */
  step(grads: readonly (ArrayLike<number> | undefined)[]): void {
    if (grads.length !== this.params.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    const { lr, beta1, beta2, eps, weightDecay } = this;
    grads.forEach((g, i) => {
      if (g === undefined) return;
      const p = this.params[i];
      if (g.length !== p.length) throw new Error(`AdamW: gradient ${i} has ${g.length} values, parameter has ${p.length}`);
      const s = this.state[i];
      s.step += 1;
      const decay = 1 - lr * weightDecay;
      const stepSize = lr / (1 - beta1 ** s.step);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
      const m = s.expAvg;
      const v = s.expAvgSq;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j];
        m[j] = beta1 * m[j] + (1 - beta1) * gj;
        v[j] = beta2 * v[j] + (1 - beta2) * gj * gj;
        p[j] = p[j] * decay - (stepSize * m[j]) / (Math.sqrt(v[j]) / bc2Sqrt + eps);
      }
    });
  }
}
