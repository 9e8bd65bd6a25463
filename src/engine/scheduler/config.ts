import { readFile } from 'node:fs/promises';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** The DDIM-relevant part of a diffusers scheduler_config.json, with diffusers' DDIMScheduler defaults. */
export interface DdimSchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  /** diffusers `trained_betas`: replaces the schedule when present. */
  trainedBetas?: number[];
  predictionType: PredictionType;
  clipSample: boolean;
  clipSampleRange: number;
  setAlphaToOne: boolean;
  stepsOffset: number;
  timestepSpacing: TimestepSpacing;
}

export const defaultDdimConfig: Readonly<DdimSchedulerConfig> = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  predictionType: 'epsilon',
  clipSample: true,
  clipSampleRange: 1,
  setAlphaToOne: true,
  stepsOffset: 0,
  timestepSpacing: 'leading',
};

/**
 * Validates a scheduler config (parsed object or JSON text). Keys DDIM does not use
 * (`_class_name`, `skip_prk_steps`, ...) are ignored, as diffusers' from_config does;
 * options that would change the result but are not implemented are rejected.
 */
export function parseSchedulerConfig(json: unknown, file: string): DdimSchedulerConfig {
  const fail = (message: string): never => {
    throw new Error(`${file}: ${message}`);
  };
  let obj = json;
  if (typeof json === 'string') {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      fail(`invalid JSON (${(e as Error).message})`);
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return fail('expected a JSON object');
  }
  const raw = obj as Record<string, unknown>;
  const present = (key: string): boolean => raw[key] !== undefined && raw[key] !== null;

  const num = (key: string, fallback: number, ok: (v: number) => boolean, expected: string): number => {
    if (!present(key)) return fallback;
    const v = raw[key];
    return typeof v === 'number' && ok(v) ? v : fail(`"${key}" must be ${expected}, got ${JSON.stringify(v)}`);
  };
  const bool = (key: string, fallback: boolean): boolean => {
    if (!present(key)) return fallback;
    const v = raw[key];
    return typeof v === 'boolean' ? v : fail(`"${key}" must be true or false, got ${JSON.stringify(v)}`);
  };
  const oneOf = <T extends string>(key: string, fallback: T, allowed: readonly T[]): T => {
    if (!present(key)) return fallback;
    const v = raw[key];
    return allowed.includes(v as T)
      ? (v as T)
      : fail(`"${key}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(v)}`);
  };

  for (const key of ['thresholding', 'rescale_betas_zero_snr']) {
    if (raw[key] === true) fail(`"${key}": true is not supported by the DDIM scheduler`);
  }

  const d = defaultDdimConfig;
  const config: DdimSchedulerConfig = {
    numTrainTimesteps: num('num_train_timesteps', d.numTrainTimesteps, (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
    betaStart: num('beta_start', d.betaStart, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    betaEnd: num('beta_end', d.betaEnd, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    betaSchedule: oneOf('beta_schedule', d.betaSchedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2']),
    predictionType: oneOf('prediction_type', d.predictionType, ['epsilon', 'v_prediction', 'sample']),
    clipSample: bool('clip_sample', d.clipSample),
    clipSampleRange: num('clip_sample_range', d.clipSampleRange, (v) => v > 0, 'a positive number'),
    setAlphaToOne: bool('set_alpha_to_one', d.setAlphaToOne),
    stepsOffset: num('steps_offset', d.stepsOffset, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
    timestepSpacing: oneOf('timestep_spacing', d.timestepSpacing, ['leading', 'trailing', 'linspace']),
  };
  if (present('trained_betas')) {
    const betas = raw.trained_betas;
    if (
      !Array.isArray(betas) ||
      betas.length !== config.numTrainTimesteps ||
      !betas.every((b) => typeof b === 'number' && b > 0 && b < 1)
    ) {
      fail(`"trained_betas" must be ${config.numTrainTimesteps} numbers in (0, 1)`);
    }
    config.trainedBetas = betas as number[];
  }
  return config;
}

/** Reads and validates `scheduler/scheduler_config.json`. */
export async function readSchedulerConfig(file: string): Promise<DdimSchedulerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read scheduler config (${(e as Error).message})`);
  }
  return parseSchedulerConfig(text, file);
}
