/**
 * Finite-difference checks of the autodiff rules on tiny graphs built with the differentiator's own Emitter:
 * f(x) = sum over seeds of <R, seed(x)> for fixed random R, its gradient from the emitted gradient model
 * (fed R as each seed's gradient), against central differences of f run through onnxruntime.
 */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { differentiate, gradName, type GradientModel } from '../../../src/engine/autodiff';
import { Emitter } from '../../../src/engine/autodiff/emitter';
import { DataType, decodeModel, encodeModel, type ModelProto } from '../../../src/engine/onnx/proto';
import { Rng } from '../../../src/engine/random';
import { floatToHalf, halfToFloat } from '../../../src/engine/safetensors/f16';

export const { FLOAT, FLOAT16, DOUBLE } = DataType;

/**
 * How an input's values are drawn: signed uniform(-2, 2); positive uniform(0.5, 2); apart: |x| in [0.25, 2]
 * (away from kinks); grid: multiples of 1/64 in [-2, 2] (exact in float16, as are steps of 1/16).
 */
export type Values = 'signed' | 'positive' | 'apart' | 'grid';

export interface InputSpec {
  shape: number[];
  /** How the values are drawn, or the values themselves (ties, exact zeros). */
  values?: Values | number[];
  /** Element type (default: the case's). */
  dtype?: number;
}

export interface GraphCase {
  /** Graph inputs: a shape, or a spec. */
  inputs: Record<string, number[] | InputSpec>;
  /** Adds the nodes and constants (float constants in `dtype`); returns the seeded tensors. */
  build(e: Emitter, dtype: number): string | string[];
  /** Element type of the inputs and constants (default float64, where onnxruntime's CPU has the kernels). */
  dtype?: number;
  /** Default 17. */
  opset?: number;
  /** Differentiated inputs (default: all). */
  wrt?: string[];
  /** Finite-difference step (float64: 1e-5, per element; else 1e-2, along random directions). */
  h?: number;
  /** Per element (every input entry) or along 3 random directions per input. */
  mode?: 'element' | 'direction';
  /**
   * Largest accepted relative error (against the largest gradient entry, or the gradient's norm along random
   * directions). float64: 1e-7, since the gradient model outputs float32 (rounding: 2^-24 = 6e-8); float32: 1e-2.
   */
  tolerance?: number;
  seed?: number;
}

export interface CheckResult {
  /** Worst relative error over the differentiated inputs. */
  worst: number;
  gradient: GradientModel;
}

const OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };

const session = (model: ModelProto) => ort.InferenceSession.create(encodeModel(model), OPTIONS);

/** Rounds to what a tensor of `dtype` holds. */
function rounder(dtype: number): (v: number) => number {
  if (dtype === FLOAT) return Math.fround;
  if (dtype === FLOAT16) return (v) => halfToFloat(floatToHalf(v));
  return (v) => v;
}

function tensor(dtype: number, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  if (dtype === DOUBLE) return new ort.Tensor('float64', Float64Array.from(values), dims);
  if (dtype === FLOAT16) return new ort.Tensor('float16', Uint16Array.from(values, floatToHalf), dims);
  return new ort.Tensor('float32', Float32Array.from(values), dims);
}

function draw(rng: Rng, n: number, kind: Values | number[]): number[] {
  if (Array.isArray(kind)) return kind;
  return Array.from({ length: n }, () => {
    const u = rng.nextFloat64();
    switch (kind) {
      case 'positive': return 0.5 + 1.5 * u;
      case 'apart': return (rng.nextFloat64() < 0.5 ? -1 : 1) * (0.25 + 1.75 * u);
      case 'grid': return Math.round(u * 256 - 128) / 64;
      default: return 4 * u - 2;
    }
  });
}

interface Input { name: string; shape: number[]; dtype: number; values: number[] }

export function buildCase(c: GraphCase): { model: ModelProto; seeds: string[]; inputs: Input[] } {
  const dtype = c.dtype ?? DOUBLE;
  const opset = c.opset ?? 17;
  const rng = new Rng(c.seed ?? 7);
  const inputs = Object.entries(c.inputs).map(([name, s]): Input => {
    const spec = Array.isArray(s) ? { shape: s } : s;
    const type = spec.dtype ?? dtype;
    const n = spec.shape.reduce((p, d) => p * d, 1);
    return { name, shape: spec.shape, dtype: type, values: draw(rng, n, spec.values ?? 'signed').map(rounder(type)) };
  });
  const e = new Emitter(new Set(inputs.map((i) => i.name)), opset, 'test');
  const built = c.build(e, dtype);
  const seeds = typeof built === 'string' ? [built] : built;
  const model: ModelProto = {
    irVersion: opset >= 21 ? 10 : 9,
    producerName: 'prompt-lens-test',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'rule',
      node: e.nodes,
      initializer: e.initializers,
      input: inputs.map((i) => ({ name: i.name, type: { tensorType: { elemType: i.dtype, shape: { dim: i.shape.map((d) => ({ dimValue: d })) } } } })),
      output: seeds.map((name) => ({ name })),
    },
  };
  return { model, seeds, inputs };
}

/**
 * Builds the case's graph and differentiates it as decoded from its bytes, as the extension reads a model
 * (float attributes then hold their float32 values); the probe runs with the case's inputs.
 */
export async function gradientOf(c: GraphCase): Promise<GradientModel> {
  const { model, seeds, inputs } = buildCase(c);
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, tensor(i.dtype, i.values, i.shape)]));
  return differentiate(decodeModel(encodeModel(model)), { wrt: c.wrt ?? inputs.map((i) => i.name), seeds }, async (probe, outputs) => {
    const s = await session(probe);
    const result = await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])), outputs);
    await s.release();
    return Object.fromEntries(outputs.map((o) => [o, result[o].data as ArrayLike<number | bigint>]));
  });
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Differentiates the case and checks every requested input's gradient (zero where `unreached`) against central differences. */
export async function checkGradient(c: GraphCase): Promise<CheckResult> {
  const { model, seeds, inputs } = buildCase(c);
  const dtype = c.dtype ?? DOUBLE;
  const mode = c.mode ?? (dtype === DOUBLE ? 'element' : 'direction');
  const h = c.h ?? (dtype === DOUBLE ? 1e-5 : 1e-2);
  const tolerance = c.tolerance ?? (dtype === DOUBLE ? 1e-7 : 1e-2);
  const rng = new Rng((c.seed ?? 7) + 1);
  const forward = await session(model);
  const feedsOf = (values: Map<string, number[]>) =>
    Object.fromEntries(inputs.map((i) => [i.name, tensor(i.dtype, values.get(i.name) ?? i.values, i.shape)]));
  const base = await forward.run(feedsOf(new Map()));
  const r = new Map(seeds.map((s) => [s, rng.normals(base[s].size)]));
  const f = async (values: Map<string, number[]>) => {
    const out = await forward.run(feedsOf(values));
    return seeds.reduce((sum, s) => sum + dot(r.get(s)!, out[s].data as ArrayLike<number>), 0);
  };

  const gradient = await gradientOf(c);
  const backward = await session(gradient.model);
  const gradFeeds: Record<string, ort.Tensor> = { ...feedsOf(new Map()) };
  for (const [s, input] of gradient.seedInputs) gradFeeds[input] = new ort.Tensor('float32', r.get(s)!, base[s].dims as number[]);
  const grads = await backward.run(Object.fromEntries(backward.inputNames.map((n) => [n, gradFeeds[n]])));

  let worst = 0;
  for (const input of inputs.filter((i) => (c.wrt ?? inputs.map((w) => w.name)).includes(i.name))) {
    const out = gradient.gradOutputs.get(input.name);
    assert.equal(out === undefined, gradient.unreached.includes(input.name), `${input.name}: a gradient output exactly when reached`);
    if (out) assert.equal(out, gradName(input.name));
    const g = out ? Array.from(grads[out].data as Float32Array) : input.values.map(() => 0);
    assert.equal(g.length, input.values.length, `${input.name}: gradient size`);
    // The derivative of f along v, by central differences and from the gradient.
    const along = async (v: number[]) => {
      const step = (s: number) => new Map([[input.name, input.values.map((x, i) => x + s * h * v[i])]]);
      return { fd: ((await f(step(1))) - (await f(step(-1)))) / (2 * h), ad: dot(g, v) };
    };
    const scale = mode === 'element' ? Math.max(...g.map(Math.abs)) : Math.hypot(...g);
    const directions = mode === 'element'
      ? g.map((_, k) => g.map((__, i) => (i === k ? 1 : 0)))
      : [0, 1, 2].map(() => Array.from(rng.normals(g.length)));
    for (const v of directions) {
      const { fd, ad } = await along(v);
      const error = Math.abs(fd - ad) / Math.max(scale, Math.abs(fd), 1e-12);
      worst = Math.max(worst, error);
      assert.ok(error <= tolerance, `${input.name}: derivative ${ad} against finite difference ${fd} (relative error ${error.toExponential(2)} > ${tolerance})`);
    }
  }
  await Promise.all([forward.release(), backward.release()]);
  return { worst, gradient };
}
