/**
 * The full gradient of a loss on the instrumented UNet's outputs with respect to every cross-attention key
 * (docs/method.md §4): the UNet graph differentiated by src/engine/autodiff for one batch and sample size, cached
 * beside the instrumented copy, and run by onnxruntime on the pipeline's own provider. The loss is computed
 * outside (its gradient fed for each seed), or appended to the graph (lossGraph.ts): then one run gives it too.
 */
import { createHash } from 'node:crypto';
import { access, readFile, unlink } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { differentiate, gradName, withStaticInputs } from '../autodiff';
import { writeFileAtomic } from '../files/writeFileAtomic';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/proto';
import type { CrossAttentionLayer } from '../onnx/types';
import type { Pipeline } from '../pipeline/pipeline';
import { float32Data } from '../pipeline/tensors';
import { createSession } from '../session/createSession';
import { SEP_EN, withSepEnLoss, type SepEnGraphSpec } from './lossGraph';

/** Bump when a gradient rule or the model's layout changes, so cached gradient models are rebuilt. */
export const AUTODIFF_VERSION = 1;

interface CachedMeta {
  version: number;
  seeds: string[];
  reached: string[];
}

export interface UnetGradientSpec {
  /** The batch the model is built for (static shapes). */
  batch: number;
  /** Tensors whose gradient run() is fed: UNet outputs the loss reads (layers' `probsOutput`s, the noise prediction), or SEP_EN.loss. */
  seeds: string[];
  /** The S&E loss to append to the graph; its values come out of run() beside the gradients. */
  loss?: SepEnGraphSpec;
}

export interface GradientRun {
  /** dL/dW for every reached layer's key, graph layout, by layer name. */
  grads: Map<string, Float32Array>;
  /** The appended loss's outputs (SEP_EN), by name; empty without one. */
  values: Map<string, Float32Array>;
}

export class UnetGradient {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly spec: UnetGradientSpec,
    /** Layers whose key reaches a seed (the others' gradient is zero). */
    readonly reached: CrossAttentionLayer[],
    readonly path: string,
  ) {}

  static async create(pipeline: Pipeline, spec: UnetGradientSpec, forwardFeeds: Record<string, ort.Tensor>): Promise<UnetGradient> {
    const instrumented = pipeline.instrumented;
    const key = createHash('sha256')
      .update(JSON.stringify({ v: AUTODIFF_VERSION, seeds: spec.seeds, shapes: Object.entries(forwardFeeds).map(([n, t]) => [n, t.dims, t.type]), loss: spec.loss }))
      .digest('hex')
      .slice(0, 8);
    const stem = instrumented.path.replace(/\.onnx$/, '');
    const path = `${stem}.grad-${key}.onnx`;
    const metaPath = `${stem}.grad-${key}.json`;
    let meta = await readMeta(metaPath, path);
    if (!meta) {
      const unet = decodeModel(await readFile(instrumented.path));
      const model = spec.loss ? withSepEnLoss(unet, spec.loss) : unet;
      const request = { wrt: instrumented.layers.map((l) => l.keyInput), seeds: spec.seeds, keep: kept(spec) };
      const gradient = await differentiate(model, request, (probe, outputs) => runProbe(probe, `${stem}.probe-${process.pid}.onnx`, forwardFeeds, outputs));
      await writeFileAtomic(path, encodeModel(gradient.model));
      meta = { version: AUTODIFF_VERSION, seeds: spec.seeds, reached: [...gradient.gradOutputs.keys()] };
      // The metadata goes last: its presence means the model is complete.
      await writeFileAtomic(metaPath, JSON.stringify(meta, null, 2) + '\n');
    }
    const reached = instrumented.layers.filter((l) => meta.reached.includes(l.keyInput));
    const handle = await pipeline.openSession(path);
    return new UnetGradient(handle.session, spec, reached, path);
  }

  /** dL/dW for every reached layer's key (and the appended loss's values), from the forward feeds and dL/d(each seed). */
  async run(forwardFeeds: Record<string, ort.Tensor>, seedGrads: Map<string, { data: Float32Array; dims: readonly number[] }>): Promise<GradientRun> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const forward = forwardFeeds[name];
      if (forward) {
        feeds[name] = forward;
        continue;
      }
      const seed = this.spec.seeds.find((s) => gradName(s) === name);
      const grad = seed ? seedGrads.get(seed) : undefined;
      if (!grad) throw new Error(`the gradient model needs ${name}, which was not given`);
      feeds[name] = new ort.Tensor('float32', grad.data, [...grad.dims]);
    }
    const values = kept(this.spec);
    const out = await this.session.run(feeds, [...this.reached.map((l) => gradName(l.keyInput)), ...values]);
    return {
      grads: new Map(this.reached.map((l) => [l.name, float32Data(out[gradName(l.keyInput)], gradName(l.keyInput))])),
      values: new Map(values.map((v) => [v, float32Data(out[v], v)])),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The forward values the gradient model outputs: the appended loss's. */
function kept(spec: UnetGradientSpec): string[] {
  return spec.loss ? [SEP_EN.loss, SEP_EN.separate, SEP_EN.enhance] : [];
}

async function readMeta(metaPath: string, path: string): Promise<CachedMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as CachedMeta;
    await access(path);
    return meta.version === AUTODIFF_VERSION ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the shape probe once on the CPU (shapes do not depend on the provider), beside the model for its external weights. */
async function runProbe(probe: ModelProto, path: string, feeds: Record<string, ort.Tensor>, outputs: string[]): Promise<Record<string, ArrayLike<number | bigint>>> {
  // At the feeds' dims: it opens several times faster (withStaticInputs).
  await writeFileAtomic(path, encodeModel(withStaticInputs(probe, (name) => feeds[name]?.dims)));
  try {
    const { session } = await createSession(path, 'cpu');
    try {
      const wanted = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]]));
      const result = await session.run(wanted, outputs);
      return Object.fromEntries(outputs.map((o) => [o, (result[o] as ort.Tensor).data as ArrayLike<number | bigint>]));
    } finally {
      await session.release();
    }
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
