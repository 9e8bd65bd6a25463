import { alphasCumprod, linspace } from './betas';
import type { DdimSchedulerConfig } from './config';

export interface DdimStepResult {
  prevSample: Float32Array;
  predOriginalSample: Float32Array;
}

/**
 * DDIM (Song et al. 2020) with the semantics of diffusers' DDIMScheduler: same timestep spacing,
 * same previous-timestep rule, same prediction types and clipping. Coefficients are float64;
 * tensors are float32 like the ONNX models' inputs and outputs.
 */
export class DdimScheduler {
  readonly alphasCumprod: Float64Array;
  /** alpha_bar used for the step past the last timestep. */
  private readonly finalAlphaCumprod: number;

  constructor(readonly config: DdimSchedulerConfig) {
    this.alphasCumprod = alphasCumprod(config);
    this.finalAlphaCumprod = config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  /** The descending timesteps of a run with `numInferenceSteps` steps. */
  timesteps(numInferenceSteps: number): number[] {
    const n = this.config.numTrainTimesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > n) {
      throw new RangeError(`steps must be an integer from 1 to ${n} (num_train_timesteps), got ${numInferenceSteps}`);
    }
    switch (this.config.timestepSpacing) {
      case 'leading': {
        const ratio = Math.floor(n / numInferenceSteps);
        return Array.from({ length: numInferenceSteps }, (_, i) => (numInferenceSteps - 1 - i) * ratio + this.config.stepsOffset);
      }
      case 'trailing': {
        // np.round(np.arange(n, 0, -n / steps)) - 1, filled like numpy: start + i * ((start - step) - start).
        // For some step counts (61, 103, ...) numpy's rounding yields one extra timestep, -1, which
        // diffusers keeps; it is not a valid timestep, so only the first `steps` values are taken.
        const delta = n - n / numInferenceSteps - n;
        return Array.from({ length: numInferenceSteps }, (_, i) => roundHalfEven(n + i * delta) - 1);
      }
      case 'linspace':
        return Array.from(linspace(0, n - 1, numInferenceSteps), roundHalfEven).reverse();
    }
  }

  /**
   * One reverse step from `timestep` to the previous timestep of a `numInferenceSteps` run.
   * eta > 0 adds `noise` (required then) scaled by the DDIM standard deviation.
   */
  step(
    modelOutput: Float32Array,
    timestep: number,
    sample: Float32Array,
    numInferenceSteps: number,
    eta = 0,
    noise?: Float32Array,
  ): DdimStepResult {
    if (modelOutput.length !== sample.length) {
      throw new RangeError(`model output has ${modelOutput.length} values, sample has ${sample.length}`);
    }
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= this.alphasCumprod.length) {
      throw new RangeError(`timestep ${timestep} is outside [0, ${this.alphasCumprod.length - 1}]`);
    }
    if (eta > 0 && (!noise || noise.length !== sample.length)) {
      throw new RangeError(`eta ${eta} needs a noise array of ${sample.length} values`);
    }
    const prevTimestep = timestep - Math.floor(this.config.numTrainTimesteps / numInferenceSteps);
    const alphaProdT = this.alphasCumprod[timestep];
    const alphaProdPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const betaProdT = 1 - alphaProdT;
    const betaProdPrev = 1 - alphaProdPrev;
    const sqrtA = Math.sqrt(alphaProdT);
    const sqrtB = Math.sqrt(betaProdT);

    const variance = (betaProdPrev / betaProdT) * (1 - alphaProdT / alphaProdPrev);
    const std = eta * Math.sqrt(variance);
    const dirCoeff = Math.sqrt(1 - alphaProdPrev - std * std);
    const sqrtPrev = Math.sqrt(alphaProdPrev);
    const { predictionType, clipSample, clipSampleRange } = this.config;

    const prevSample = new Float32Array(sample.length);
    const predOriginalSample = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i];
      const m = modelOutput[i];
      let x0: number;
      let eps: number;
      if (predictionType === 'epsilon') {
        x0 = (x - sqrtB * m) / sqrtA;
        eps = m;
      } else if (predictionType === 'sample') {
        x0 = m;
        eps = (x - sqrtA * x0) / sqrtB;
      } else {
        x0 = sqrtA * x - sqrtB * m;
        eps = sqrtA * m + sqrtB * x;
      }
      // diffusers clips x0 but keeps the epsilon derived from the unclipped prediction.
      if (clipSample) x0 = Math.min(Math.max(x0, -clipSampleRange), clipSampleRange);
      predOriginalSample[i] = x0;
      let prev = sqrtPrev * x0 + dirCoeff * eps;
      if (eta > 0) prev += std * (noise as Float32Array)[i];
      prevSample[i] = prev;
    }
    return { prevSample, predOriginalSample };
  }

  /** Forward diffusion q(x_t | x_0): sqrt(alpha_bar) * original + sqrt(1 - alpha_bar) * noise. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    if (original.length !== noise.length) {
      throw new RangeError(`original has ${original.length} values, noise has ${noise.length}`);
    }
    const a = this.alphasCumprod[timestep];
    if (a === undefined) throw new RangeError(`timestep ${timestep} is outside [0, ${this.alphasCumprod.length - 1}]`);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    return original.map((x, i) => sa * x + sb * noise[i]);
  }
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
