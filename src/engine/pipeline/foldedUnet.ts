/**
 * The UNet graph a small model's session runs: the instrumented copy with its computed Reshape targets folded into
 * constants (onnx/foldShapes.ts), checked against the unfolded graph and cached beside it. The probe runs the
 * model at its own sample and text sizes, with the batch, the sample's height and width and the text length each
 * changed in turn where the graph leaves them open; a check at a size no probe used must agree to float rounding.
 * Large models keep their graph: at their size the per-node cost is lost in the kernels' and a probe run takes
 * seconds (see README, "Sampling speed against PyTorch").
 */
import { createHash } from 'node:crypto';
import { access, readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { writeFileAtomic } from '../files/writeFileAtomic';
import { fileDigest } from '../onnx/cache';
import { foldReshapes, shapeProbe, type ProbeRun } from '../onnx/foldShapes';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/proto';
import { float32Data, floatTensor, inputShape, inputType, integerTensor } from './tensors';
import { sampleShapeFor } from './sampleShape';

/** Bump when folding changes, so cached folded copies are made again. */
const FOLD_VERSION = 1;
/** Graphs up to this size are folded (the instrumented copy is self-contained below it, see instrument.ts). */
const FOLD_BELOW_BYTES = 256 * 1024 * 1024;
/** How far the folded graph's outputs may be from the original's, relative to the largest output value. */
const AGREEMENT = 1e-4;

export interface FoldRequest {
  /** The instrumented UNet copy. */
  path: string;
  /** Its key-projection inputs (the model's own keys). */
  keyFeeds: Record<string, ort.Tensor>;
  /** Whether the model decodes latents with a VAE, its native sample size and its text length. */
  latent: boolean;
  sampleSize: number | undefined;
  textLength: number;
  threads: number | undefined;
}

export interface FoldedUnet {
  /** The graph to open: the folded copy, or the instrumented one when folding does not apply or failed. */
  path: string;
  /** What happened, for logs and benchmarks: "folded 130 of 144 computed Reshape targets: 2573 → 944 nodes". */
  note: string;
}

interface Sizes {
  batch: number;
  height: number;
  width: number;
  textLength: number;
}

/** Never fails: where folding cannot be done the instrumented graph is used as it is, and the note says why. */
export async function foldedUnet(request: FoldRequest): Promise<FoldedUnet> {
  return fold(request).catch((error: unknown) => ({ path: request.path, note: `not folded: ${firstLine(error)}` }));
}

async function fold(request: FoldRequest): Promise<FoldedUnet> {
  const keep = (note: string): FoldedUnet => ({ path: request.path, note });
  const { size } = await stat(request.path);
  if (size > FOLD_BELOW_BYTES) return keep(`not folded: the graph is ${Math.round(size / 2 ** 20)} MiB, and per-node cost only matters for small models`);
  const digest = createHash('sha256').update(JSON.stringify({ FOLD_VERSION, graph: await fileDigest(request.path), sampleSize: request.sampleSize, textLength: request.textLength })).digest('hex').slice(0, 8);
  const foldedPath = request.path.replace(/\.onnx$/, '') + `.folded-${digest}.onnx`;
  if (await access(foldedPath).then(() => true, () => false)) return { path: foldedPath, note: 'folded copy reused' };

  const model = decodeModel(await readFile(request.path));
  const probe = shapeProbe(model);
  if (!probe.reshapes.length) return keep('not folded: no Reshape target is computed at run time');
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', ...(request.threads ? { intraOpNumThreads: request.threads } : {}) };
  // The probe runs a few times: unoptimised it opens in half the time (sd-tiny: 1.9 against 3.6 s) and is the
  // reference the folded graph, optimised as it will run, is checked against.
  const probeSession = await ort.InferenceSession.create(encodeModel(probe.model), { ...options, graphOptimizationLevel: 'disabled' });
  let foldedSession: ort.InferenceSession | undefined;
  try {
    const feeds = new ProbeFeeds(probeSession, request);
    const probeOutputs = probe.reshapes.flatMap((r) => [r.target, r.inputShape]);
    const run = async (sizes: Sizes): Promise<ProbeRun> => toRun(await probeSession.run(feeds.at(sizes), probeOutputs));
    const base = feeds.base;
    let runs: ProbeRun[];
    try {
      runs = [await run(base), await run({ ...base, batch: base.batch + 1 })];
    } catch (error) {
      return keep(`not folded: the probe did not run (${firstLine(error)})`);
    }
    // A size the graph fixes in fact (it fails to run with another) needs no probe: its entries are constants.
    for (const changed of feeds.openSizes()) await run(changed).then((r) => runs.push(r), () => undefined);
    const folded = foldReshapes(model, probe, runs);
    if (!folded.folded) return keep(`not folded: none of ${probe.reshapes.length} computed Reshape targets folds`);

    const bytes = encodeModel(folded.model);
    foldedSession = await ort.InferenceSession.create(bytes, options);
    const check = feeds.at(feeds.checkSizes());
    const outputs = probeSession.outputNames.filter((n) => !probeOutputs.includes(n));
    const mismatch = disagreement(await probeSession.run(check, outputs), await foldedSession.run(check, outputs));
    if (mismatch) return keep(`not folded: the folded graph disagrees with the original (${mismatch})`);
    try {
      await writeFileAtomic(foldedPath, bytes);
    } catch (error) {
      return keep(`not folded: cannot write ${foldedPath} (${firstLine(error)})`);
    }
    return { path: foldedPath, note: `folded ${folded.folded} of ${probe.reshapes.length} computed Reshape targets: ${nodeCount(model)} → ${nodeCount(folded.model)} nodes` };
  } finally {
    await probeSession.release();
    await foldedSession?.release();
  }
}

/** The UNet's inputs at given sizes, made for the session's declared types; `base` is the model's own size at batch 1. */
class ProbeFeeds {
  readonly base: Sizes;
  private readonly channels: number;
  private readonly sampleDims: ReadonlyArray<number | string>;
  private readonly textDims: ReadonlyArray<number | string>;

  constructor(private readonly session: ort.InferenceSession, private readonly request: FoldRequest) {
    this.sampleDims = inputShape(session, 'sample');
    this.textDims = inputShape(session, 'encoder_hidden_states');
    const [channels, height, width] = sampleShapeFor(this.sampleDims, request.latent, request.sampleSize, undefined);
    this.channels = channels;
    const textLength = typeof this.textDims[1] === 'number' ? this.textDims[1] : request.textLength;
    this.base = { batch: 1, height, width, textLength };
  }

  /** The probes beside the batch's: each other size the graph leaves open, doubled (a UNet halves its grid). */
  openSizes(): Sizes[] {
    const sizes: Sizes[] = [];
    if (this.spatialOpen()) sizes.push({ ...this.base, height: this.base.height * 2, width: this.base.width * 2 });
    if (this.textOpen()) sizes.push({ ...this.base, textLength: this.base.textLength * 2 });
    return sizes;
  }

  /** A size no probe used, in every open dimension at once. */
  checkSizes(): Sizes {
    return {
      batch: this.base.batch + 2,
      height: this.spatialOpen() ? this.base.height * 2 : this.base.height,
      width: this.base.width,
      textLength: this.textOpen() ? this.base.textLength + 3 : this.base.textLength,
    };
  }

  at(sizes: Sizes): Record<string, ort.Tensor> {
    const { channels } = this;
    const width = this.textDims[2];
    if (typeof width !== 'number') throw new Error('encoder_hidden_states has no fixed width');
    const { batch } = sizes;
    return {
      sample: floatTensor(this.session, 'sample', wave(batch * channels * sizes.height * sizes.width), [batch, channels, sizes.height, sizes.width]),
      timestep: integerTensor(inputType(this.session, 'timestep'), new Array<number>(batch).fill(500), [batch]),
      encoder_hidden_states: floatTensor(this.session, 'encoder_hidden_states', wave(batch * sizes.textLength * width), [batch, sizes.textLength, width]),
      ...this.request.keyFeeds,
    };
  }

  private spatialOpen(): boolean {
    return typeof this.sampleDims[2] !== 'number' || typeof this.sampleDims[3] !== 'number';
  }

  private textOpen(): boolean {
    return typeof this.textDims[1] !== 'number';
  }
}

/** Inputs whose values differ everywhere, so a wrong reshape shows in the outputs. */
function wave(length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i * 0.37));
}

function toRun(out: ort.InferenceSession.ReturnType): ProbeRun {
  return Object.fromEntries(Object.entries(out).map(([name, value]) => [name, (value as ort.Tensor).data as ArrayLike<number | bigint>]));
}

/** Why two runs' outputs differ (shape, or the largest difference over AGREEMENT of the largest value), if they do. */
function disagreement(expected: ort.InferenceSession.ReturnType, actual: ort.InferenceSession.ReturnType): string | undefined {
  for (const [name, value] of Object.entries(expected)) {
    const a = value as ort.Tensor;
    const b = actual[name] as ort.Tensor | undefined;
    if (!b || a.dims.join('x') !== b.dims.join('x')) return `${name}: shape ${a.dims.join('x')} against ${b?.dims.join('x') ?? 'none'}`;
    if (a.type !== 'float32' && a.type !== 'float16') continue;
    const x = float32Data(a, name);
    const y = float32Data(b, name);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(x[i]));
      worst = Math.max(worst, Math.abs(x[i] - y[i]));
    }
    if (!(worst <= AGREEMENT * Math.max(scale, 1))) return `${name}: differs by ${worst.toExponential(2)}`;
  }
  return undefined;
}

function nodeCount(model: ModelProto): number {
  return model.graph?.node?.length ?? 0;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
