/**
 * Stops a finetune that is diverging before it writes garbage weights:
 * a non-finite loss or gradient, or a loss that jumps above `factor` times
 * the median of the first `warmup` finite losses (the reference is a
 * running median while those arrive, then fixed). The S&E loss itself is
 * bounded (L_sep <= 1/2, L_en <= 1); the jump test is for regularised or
 * modified losses and for a check that the maths has not gone wrong.
 */

export interface GuardOptions {
  /** Loss above factor * reference median trips the guard; default 10. */
  readonly factor?: number;
  /** How many first steps form the reference; default 5. */
  readonly warmup?: number;
  /** Floor of the reference, so a near-zero median does not trip on noise; default 1e-6. */
  readonly floor?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export class DivergenceGuard {
  private readonly factor: number;
  private readonly warmup: number;
  private readonly floor: number;
  private readonly reference: number[] = [];
  private steps = 0;

  constructor(options: GuardOptions = {}) {
    this.factor = options.factor ?? 10;
    this.warmup = options.warmup ?? 5;
    this.floor = options.floor ?? 1e-6;
  }

  /** Returns why the run must stop, or undefined. Call once per step, before the update. */
  check(loss: number, grads: readonly ArrayLike<number>[] = []): string | undefined {
    const step = this.steps++;
    if (!Number.isFinite(loss)) return `step ${step}: loss is ${loss}`;
    for (let l = 0; l < grads.length; l++) {
      const g = grads[l];
      for (let i = 0; i < g.length; i++) {
        if (!Number.isFinite(g[i])) return `step ${step}: gradient ${l} has ${g[i]} at index ${i}`;
      }
    }
    if (this.reference.length > 0) {
      const ref = Math.max(median(this.reference), this.floor);
      if (loss > this.factor * ref) {
        return `step ${step}: loss ${loss.toPrecision(4)} exceeds ${this.factor}x the median ${ref.toPrecision(4)} of the first ${this.reference.length} steps`;
      }
    }
    if (this.reference.length < this.warmup) this.reference.push(loss);
    return undefined;
  }
}
