import type { DdimSchedulerConfig } from './config';

/** Cumulative products of (1 - beta), in float64 (diffusers computes the same in float32). */
export function alphasCumprod(config: DdimSchedulerConfig): Float64Array {
  const betas = config.trainedBetas ? Float64Array.from(config.trainedBetas) : scheduleBetas(config);
  const out = new Float64Array(betas.length);
  let prod = 1;
  for (let i = 0; i < betas.length; i++) {
    prod *= 1 - betas[i];
    out[i] = prod;
  }
  return out;
}

function scheduleBetas(config: DdimSchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  switch (config.betaSchedule) {
    case 'linear':
      return linspace(config.betaStart, config.betaEnd, n);
    case 'scaled_linear':
      // Linear in sqrt(beta): the Stable Diffusion schedule.
      return linspace(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((b) => b * b);
    case 'squaredcos_cap_v2':
      return cosineBetas(n);
  }
}

/** numpy/torch linspace: start + i * step, with the last value exactly `end`. */
export function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = n > 1 ? (end - start) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  if (n > 1) out[n - 1] = end;
  return out;
}

/** Nichol & Dhariwal's cosine schedule (diffusers betas_for_alpha_bar, max_beta 0.999). */
function cosineBetas(n: number): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  }
  return out;
}
