import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DdimScheduler, parseSchedulerConfig, readSchedulerConfig } from '../../../src/engine/scheduler';

/** Stable Diffusion 1.x's scheduler_config.json (PNDM there; DDIM reads the same keys). */
const sdConfig = {
  _class_name: 'PNDMScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

function near(actual: number, expected: number, tol = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`);
}

/** Four training steps with betas 0.1..0.4: alpha_bar = 0.9, 0.72, 0.504, 0.3024. */
function tiny(extra: Record<string, unknown> = {}): DdimScheduler {
  return new DdimScheduler(
    parseSchedulerConfig({ num_train_timesteps: 4, trained_betas: [0.1, 0.2, 0.3, 0.4], clip_sample: false, ...extra }, 't.json'),
  );
}

describe('alphas_cumprod', () => {
  test("SD's scaled_linear(0.00085, 0.012, 1000)", () => {
    const s = new DdimScheduler(parseSchedulerConfig(sdConfig, 'sd.json'));
    assert.equal(s.alphasCumprod.length, 1000);
    near(s.alphasCumprod[0], 0.99915, 1e-15);
    // float64 reference from numpy: cumprod(1 - linspace(sqrt(b0), sqrt(b1), 1000)**2)
    near(s.alphasCumprod[999], 0.004660098513077238, 1e-12);
    near(s.alphasCumprod[500], 0.2763326838229746, 1e-12);
  });

  test('linear and squaredcos_cap_v2 schedules', () => {
    // float64 references from numpy: cumprod(1 - linspace(1e-4, 0.02, 1000)); for the cosine schedule
    // betas_i = min(1 - abar((i+1)/1000) / abar(i/1000), 0.999), abar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2
    // (diffusers' betas_for_alpha_bar), then the same cumprod.
    const linear = new DdimScheduler(parseSchedulerConfig({}, 'd.json'));
    near(linear.alphasCumprod[999], 4.035829765375676e-5, 1e-10);
    const cosine = new DdimScheduler(parseSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2' }, 'c.json'));
    near(cosine.alphasCumprod[0], 0.999958715775178, 1e-12);
    near(cosine.alphasCumprod[500], 0.49228517244880304, 1e-12);
    near(cosine.alphasCumprod[999], 2.4287669070348567e-9, 1e-9);
  });
});

describe('timesteps', () => {
  test('50 leading steps with steps_offset 1 are 981, 961, ..., 1', () => {
    const t = new DdimScheduler(parseSchedulerConfig(sdConfig, 'sd.json')).timesteps(50);
    assert.equal(t.length, 50);
    assert.deepEqual(t, Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
  });

  test('trailing spacing matches numpy', () => {
    const s = new DdimScheduler(parseSchedulerConfig({ timestep_spacing: 'trailing' }, 'x.json'));
    assert.deepEqual(s.timesteps(3), [999, 666, 332]);
    assert.deepEqual(s.timesteps(7), [999, 856, 713, 570, 428, 285, 142]);
    assert.deepEqual(s.timesteps(10), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    assert.deepEqual(s.timesteps(1000).slice(-3), [2, 1, 0]);
    assert.equal(s.timesteps(50).length, 50);
    // numpy's arange gives 62 values here, the last -1; the scheduler keeps the 61 valid ones.
    assert.deepEqual(s.timesteps(61).slice(-2), [32, 15]);
    assert.equal(s.timesteps(61).length, 61);
  });

  test('linspace spacing rounds halves to even like numpy', () => {
    const s = new DdimScheduler(parseSchedulerConfig({ timestep_spacing: 'linspace' }, 'x.json'));
    assert.deepEqual(s.timesteps(1), [0]);
    assert.deepEqual(s.timesteps(3), [999, 500, 0]);
    assert.deepEqual(s.timesteps(7), [999, 832, 666, 500, 333, 166, 0]);
    assert.deepEqual(s.timesteps(50).slice(0, 8), [999, 979, 958, 938, 917, 897, 877, 856]);
  });

  test('rejects step counts outside 1..num_train_timesteps', () => {
    const s = tiny();
    for (const bad of [0, 5, 2.5]) assert.throws(() => s.timesteps(bad), RangeError);
  });
});

describe('step', () => {
  const sample = Float32Array.from([1, -0.5]);
  const output = Float32Array.from([0.5, 0.25]);

  test('epsilon prediction, eta 0 (t=3 -> 1)', () => {
    const { prevSample, predOriginalSample } = tiny().step(output, 3, sample, 2);
    near(predOriginalSample[0], 1.0590618653694166);
    near(predOriginalSample[1], -1.2889514859485616);
    near(prevSample[0], 1.1632189231450059);
    near(prevSample[1], -0.9614240380484161);
  });

  test('v prediction, eta 0 (t=3 -> 1)', () => {
    const { prevSample, predOriginalSample } = tiny({ prediction_type: 'v_prediction' }).step(output, 3, sample, 2);
    near(predOriginalSample[0], 0.13229682303827878);
    near(predOriginalSample[1], -0.4837606718755614);
    near(prevSample[0], 0.6997091188174104);
    near(prevSample[1], -0.5587180450185211);
  });

  test('sample prediction returns the prediction as x0', () => {
    const { predOriginalSample } = tiny({ prediction_type: 'sample' }).step(output, 3, sample, 2);
    assert.deepEqual(Array.from(predOriginalSample), [0.5, 0.25]);
  });

  test('eta 1 adds the DDIM standard deviation times the noise', () => {
    const noise = Float32Array.from([1, -1]);
    const { prevSample } = tiny().step(output, 3, sample, 2, 1, noise);
    near(prevSample[0], 1.489765330171228);
    assert.throws(() => tiny().step(output, 3, sample, 2, 1), RangeError);
  });

  test('the last step lands on alpha_bar = 1 with set_alpha_to_one, so x_prev = x0', () => {
    const { prevSample, predOriginalSample } = tiny().step(output, 1, sample, 2);
    assert.deepEqual(Array.from(prevSample), Array.from(predOriginalSample));
    const noFinal = tiny({ set_alpha_to_one: false }).step(output, 1, sample, 2);
    assert.notDeepEqual(Array.from(noFinal.prevSample), Array.from(noFinal.predOriginalSample));
  });

  test('clip_sample clamps x0 to clip_sample_range', () => {
    const { predOriginalSample } = tiny({ clip_sample: true, clip_sample_range: 1 }).step(output, 3, sample, 2);
    assert.deepEqual(Array.from(predOriginalSample), [1, -1]);
  });

  test('addNoise then an exact epsilon prediction recovers the original', () => {
    const s = tiny();
    const original = Float32Array.from([0.3, -0.7]);
    const noise = Float32Array.from([1.2, 0.4]);
    const noisy = s.addNoise(original, noise, 2);
    near(noisy[0], Math.sqrt(0.504) * 0.3 + Math.sqrt(0.496) * 1.2);
    const { predOriginalSample } = s.step(noise, 2, noisy, 2);
    near(predOriginalSample[0], 0.3, 1e-6);
    near(predOriginalSample[1], -0.7, 1e-6);
  });
});

/**
 * stabilityai/stable-diffusion-2-1's scheduler_config.json as an export writes it (diffusers 0.21 save_pretrained:
 * every DDIMScheduler key, thresholding and zero-SNR rescaling off), the one test/fixtures/sd2-tiny carries.
 */
const sd21Config = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.21.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  clip_sample_range: 1.0,
  dynamic_thresholding_ratio: 0.995,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  rescale_betas_zero_snr: false,
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  thresholding: false,
  timestep_spacing: 'leading',
  trained_betas: null,
};

describe('Stable Diffusion 2.1 (v-prediction)', () => {
  const sample = Float32Array.from([1, -0.5]);
  const output = Float32Array.from([0.5, 0.25]);

  test('its exported scheduler_config.json parses, keys DDIM does not use included', () => {
    const c = parseSchedulerConfig(sd21Config, 'sd21.json');
    assert.equal(c.predictionType, 'v_prediction');
    assert.equal(c.setAlphaToOne, false);
    assert.deepEqual(new DdimScheduler(c).timesteps(50).slice(0, 3), [981, 961, 941]);
  });

  // Reference values: diffusers' DDIMScheduler.step formulas for v_prediction in float64 numpy,
  //   x0 = sqrt(a_t) x - sqrt(1 - a_t) v, eps = sqrt(a_t) v + sqrt(1 - a_t) x,
  //   x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps (eta 0), a = cumprod(1 - linspace(sqrt(b0), sqrt(b1), 1000)**2).
  test('first of 50 steps, t=981 -> 961', () => {
    const s = new DdimScheduler(parseSchedulerConfig(sd21Config, 'sd21.json'));
    near(s.alphasCumprod[981], 0.005775500139495751, 1e-12);
    near(s.alphasCumprod[961], 0.007281727140942984, 1e-12);
    const { prevSample, predOriginalSample } = s.step(output, 981, sample, 50);
    near(predOriginalSample[0], -0.42255732277498137);
    near(predOriginalSample[1], -0.2872753727603899);
    near(prevSample[0], 0.995272757487793);
    near(prevSample[1], -0.5023197523177962);
  });

  test('last of 50 steps, t=1, lands on alpha_bar[0] (set_alpha_to_one false)', () => {
    const s = new DdimScheduler(parseSchedulerConfig(sd21Config, 'sd21.json'));
    const { prevSample, predOriginalSample } = s.step(output, 1, sample, 50);
    near(predOriginalSample[0], 0.9785080518268456);
    near(predOriginalSample[1], -0.5098936247561123);
    near(prevSample[0], 0.9938605372927938);
    near(prevSample[1], -0.5029961390775173);
  });

  test('an exact v prediction recovers the original: v = sqrt(a) eps - sqrt(1 - a) x0', () => {
    const s = new DdimScheduler(parseSchedulerConfig(sd21Config, 'sd21.json'));
    const original = Float32Array.from([0.3, -0.7]);
    const noise = Float32Array.from([1.2, 0.4]);
    const t = 501;
    const a = s.alphasCumprod[t];
    const v = original.map((x0, i) => Math.sqrt(a) * noise[i] - Math.sqrt(1 - a) * x0);
    const { predOriginalSample } = s.step(v, t, s.addNoise(original, noise, t), 2);
    near(predOriginalSample[0], 0.3, 1e-6);
    near(predOriginalSample[1], -0.7, 1e-6);
  });
});

describe('parseSchedulerConfig', () => {
  test('applies diffusers defaults', () => {
    const c = parseSchedulerConfig('{}', 'a.json');
    assert.equal(c.numTrainTimesteps, 1000);
    assert.equal(c.betaSchedule, 'linear');
    assert.equal(c.clipSample, true);
    assert.equal(c.timestepSpacing, 'leading');
    assert.equal(c.predictionType, 'epsilon');
  });

  test('errors name the file and the key', () => {
    assert.throws(() => parseSchedulerConfig({ beta_schedule: 'cosine' }, 'm/s.json'), /m\/s\.json: "beta_schedule" must be one of/);
    assert.throws(() => parseSchedulerConfig({ num_train_timesteps: '1000' }, 's.json'), /s\.json: "num_train_timesteps" must be a positive integer/);
    assert.throws(() => parseSchedulerConfig({ clip_sample: 1 }, 's.json'), /"clip_sample" must be true or false/);
    assert.throws(() => parseSchedulerConfig({ prediction_type: 'eps' }, 's.json'), /"prediction_type"/);
    assert.throws(() => parseSchedulerConfig({ thresholding: true }, 's.json'), /"thresholding": true is not supported/);
    assert.throws(() => parseSchedulerConfig({ trained_betas: [0.1] }, 's.json'), /"trained_betas" must be 1000 numbers/);
    assert.throws(() => parseSchedulerConfig('{nope', 's.json'), /s\.json: invalid JSON/);
    assert.throws(() => parseSchedulerConfig([], 's.json'), /expected a JSON object/);
  });

  test('readSchedulerConfig reads a file and reports a missing one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sched-'));
    const file = path.join(dir, 'scheduler_config.json');
    await writeFile(file, JSON.stringify(sdConfig));
    assert.equal((await readSchedulerConfig(file)).stepsOffset, 1);
    await assert.rejects(readSchedulerConfig(path.join(dir, 'missing.json')), /missing\.json: cannot read/);
  });
});
