// The sampling pipeline: tokenizer → text encoder → DDIM loop over the instrumented UNet with
// classifier-free guidance → decode. Sessions are created once per model and reused across runs.
import * as ort from 'onnxruntime-node';
import type { RasterImage } from '../image/png';
import { tensorToRgb } from '../image/raster';
import type { ModelFolder } from '../model/modelFolder';
import type { CacheLocation } from '../onnx/cache';
import { instrumentUnet, loadOriginalKeys, type InstrumentedUnet } from '../onnx/instrument';
import { Rng } from '../random';
import { DdimScheduler, readSchedulerConfig } from '../scheduler';
import { createSession, type SessionHandle } from '../session/createSession';
import type { ProviderChoice } from '../session/providers';
import { DeviceUploader, disposeAll } from '../session/deviceInputs';
import { ClipTokenizer, type TokenizedText } from '../tokenizer/clipTokenizer';
import { usesGuidance } from '../promptFile/guidance';
import { combineGuidance } from './guidance';
import { float32Data, floatTensor, inputShape, inputType, integerTensor, keyFeedsFor } from './tensors';
import { foldedUnet, type FoldedUnet } from './foldedUnet';
import { sampleShapeFor } from './sampleShape';

export interface GenerateRequest {
  prompt: string;
  /** Unconditional prompt for classifier-free guidance; "" as in Stable Diffusion. */
  negativePrompt: string;
  seed: number;
  steps: number;
  /** CFG scale; at or below 1 the unconditional pass is skipped. */
  guidance: number;
  eta: number;
  /** Image size in pixels for models with a free sample size; fixed-size models must match it. */
  size?: { width: number; height: number };
  /** Key projections to sample with (a finetuned overlay, graph layout); default the base model's. */
  keys?: Map<string, Float32Array>;
}

/** One layer's conditional-sample attention at one step. `probs` is a view valid only during the callback. */
export interface AttentionCapture {
  layer: string;
  step: number;
  timestep: number;
  gridH: number;
  gridW: number;
  heads: number;
  tokens: number;
  /** `[heads, gridH*gridW, tokens]`, row-major. */
  probs: Float32Array;
}

export interface GenerateProgress {
  step: number;
  totalSteps: number;
  timestep: number;
}

export interface GenerateHooks {
  signal?: AbortSignal;
  onProgress?(progress: GenerateProgress): void;
  /** Called once per step with every layer's maps; consumers fold them immediately (bounded memory). */
  onAttention?(captures: AttentionCapture[]): void;
}

/** GenerateHooks for a batch: attention comes per request (`item`, its index in the batch). */
export interface BatchHooks extends Omit<GenerateHooks, 'onAttention'> {
  onAttention?(item: number, captures: AttentionCapture[]): void;
}

/** A request's share of its batch's time: the batch's figures divided by `batchSize`, the requests it carried. */
export interface GenerateTimings {
  textEncoderMs: number;
  unetMs: number;
  decodeMs: number;
  totalMs: number;
  batchSize: number;
}

export interface GenerateOutput {
  image: RasterImage;
  tokenized: TokenizedText;
  timesteps: number[];
  timings: GenerateTimings;
}

export class CancelledError extends Error {
  constructor() {
    super('Run cancelled');
    this.name = 'CancelledError';
  }
}

export interface PipelineOptions {
  provider?: ProviderChoice;
  /** Threads per session on CPU; default all cores but one (see createSession). */
  threads?: number;
  /**
   * Per-head probabilities (default): the Separate-and-Enhance scores take their max over heads and
   * the finetune needs them; head-averaged outputs are cheaper for display-only use.
   */
  perHead?: boolean;
  /**
   * Keep the UNet inputs that are constant through a run (text embeddings, key weights) in GPU memory
   * where the provider allows it (WebGPU; default true): uploaded once per run, or once per pipeline for
   * the base keys, instead of at every step. false feeds them from host memory at every step.
   */
  deviceInputs?: boolean;
  /** Where the UNet's instrumented copy goes when the model's folder is not writable (default: the user's cache folder). */
  cache?: CacheLocation;
}

/** Whether the UNet's constant inputs stay on the device, and why (not). */
export interface DeviceInputsInfo {
  resident: boolean;
  reason: string;
}

/** Sample cells of the requests one batched UNet call may carry: 8 of tiny-shapes' 32x32 samples, 2 of Stable Diffusion's 64x64 latents. */
const BATCH_CELLS = 8192;
const VAE_SCALING_FACTOR = 0.18215;

export class Pipeline {
  private constructor(
    readonly model: ModelFolder,
    readonly tokenizer: ClipTokenizer,
    readonly scheduler: DdimScheduler,
    private readonly textEncoder: SessionHandle,
    private readonly unet: SessionHandle,
    private readonly vaeDecoder: SessionHandle | undefined,
    readonly instrumented: InstrumentedUnet,
    /** The graph the UNet session runs: the instrumented copy, folded for small models (foldedUnet.ts). */
    readonly unetGraph: FoldedUnet,
    /** The base model's key-projection weights, fed to the UNet at every step unless a run overlays others. */
    private readonly baseKeyFeeds: Record<string, ort.Tensor>,
    /** Uploads a run's constant inputs to the device; undefined where they are fed from the host. */
    private readonly uploader: DeviceUploader | undefined,
    /** `baseKeyFeeds` already on the device (with `uploader`), kept for the pipeline's lifetime. */
    private readonly deviceBaseKeyFeeds: Record<string, ort.Tensor> | undefined,
    readonly deviceInputs: DeviceInputsInfo,
    private readonly threads: number | undefined,
  ) {}

  static async load(model: ModelFolder, options: PipelineOptions = {}): Promise<Pipeline> {
    const provider = options.provider ?? 'cpu';
    const scheduler = new DdimScheduler(await readSchedulerConfig(model.schedulerConfigPath));
    const tokenizer = await ClipTokenizer.fromFolder(model.tokenizerDir, model.textSequenceLength);
    const instrumented = await instrumentUnet(model.unetPath, { perHead: options.perHead ?? true, ...(options.cache ? { cache: options.cache } : {}) });
    const open = (file: string): Promise<SessionHandle> => createSession(file, provider, options.threads);
    const keyFeeds = keyFeedsFor(instrumented, await loadOriginalKeys(instrumented));
    const unetGraph = await foldedUnet({
      path: instrumented.path, keyFeeds, latent: model.vaeDecoderPath !== undefined, sampleSize: model.sampleSize, textLength: tokenizer.maxLength, threads: options.threads,
    });
    const [textEncoder, unet, vaeDecoder] = await Promise.all([
      open(model.textEncoderPath),
      open(unetGraph.path),
      model.vaeDecoderPath ? open(model.vaeDecoderPath) : Promise.resolve(undefined),
    ]);
    const device = await keepKeysOnDevice(unet.provider, options.deviceInputs ?? true, keyFeeds);
    return new Pipeline(model, tokenizer, scheduler, textEncoder, unet, vaeDecoder, instrumented, unetGraph, keyFeeds, device.uploader, device.keyFeeds, device.info, options.threads);
  }

  /** Another model (the UNet's gradient model) on the provider and threads the UNet runs with. */
  openSession(path: string): Promise<SessionHandle> {
    return createSession(path, this.unet.provider, this.threads);
  }

  /**
   * Frees the sessions' native memory (an SD 1.5 pipeline holds several GB) and the keys kept on the device,
   * instead of waiting for the garbage collector. The pipeline must not be used afterwards.
   */
  async release(): Promise<void> {
    if (this.deviceBaseKeyFeeds) disposeAll(Object.values(this.deviceBaseKeyFeeds));
    await this.uploader?.release();
    for (const handle of [this.textEncoder, this.unet, this.vaeDecoder]) await handle?.session.release();
  }

  /** The instrumented UNet's session, shared with the finetune (its key inputs take any weights). */
  get unetSession(): ort.InferenceSession {
    return this.unet.session;
  }

  /** The execution provider that runs the UNet, and why faster ones were skipped. */
  get provider(): { name: string; fallbacks: string[] } {
    return { name: this.unet.provider, fallbacks: this.unet.fallbacks };
  }

  async encodeText(texts: string[]): Promise<{ embeddings: Float32Array; dims: number[]; tokenized: TokenizedText[] }> {
    const tokenized = texts.map((t) => this.tokenizer.encode(t));
    const length = this.tokenizer.maxLength;
    const ids = new Int32Array(texts.length * length);
    tokenized.forEach((t, i) => ids.set(t.ids, i * length));
    const session = this.textEncoder.session;
    const feeds = { input_ids: integerTensor(inputType(session, 'input_ids'), ids, [texts.length, length]) };
    const out = await session.run(feeds, ['last_hidden_state']);
    const hidden = out.last_hidden_state as ort.Tensor;
    return { embeddings: float32Data(hidden, 'last_hidden_state'), dims: [...hidden.dims], tokenized };
  }

  /** Shape of the UNet sample for a request: fixed by the graph, or derived from the image size. */
  sampleShape(size: { width: number; height: number } | undefined): [number, number, number] {
    return sampleShapeFor(inputShape(this.unet.session, 'sample'), this.vaeDecoder !== undefined, this.model.sampleSize, size);
  }

  async generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerateOutput> {
    const { onAttention, ...rest } = hooks;
    const [output] = await this.generateBatch([request], { ...rest, ...(onAttention ? { onAttention: (_item, captures) => onAttention(captures) } : {}) });
    return output;
  }

  /**
   * Most requests of `size` (default the model's) one UNet call should carry. A small model's call leaves the
   * cores idle between kernels, so batching seeds pays (tiny-shapes, 2 threads: 3.27 ms per sample at batch 2,
   * 2.02 at batch 32); a large model's call fills them already and batching would only multiply its activation memory.
   */
  batchLimit(size?: { width: number; height: number }): number {
    const [, height, width] = this.sampleShape(size);
    return Math.max(1, Math.floor(BATCH_CELLS / (height * width)));
  }

  /**
   * Several requests in one UNet call per step (their unconditional halves first, then the conditional ones).
   * They must share steps, eta, size and keys, and all use guidance or none; prompts, seeds and guidance scales
   * may differ. Each output is what `generate` makes of its request alone, to float rounding.
   */
  async generateBatch(requests: readonly GenerateRequest[], hooks: BatchHooks = {}): Promise<GenerateOutput[]> {
    const started = performance.now();
    const throwIfCancelled = (): void => {
      if (hooks.signal?.aborted) throw new CancelledError();
    };
    throwIfCancelled();
    const [first] = requests;
    if (!first) throw new Error('generateBatch needs at least one request');
    const mismatch = requests.find((r) => r.steps !== first.steps || r.eta !== first.eta || r.keys !== first.keys ||
      r.size?.width !== first.size?.width || r.size?.height !== first.size?.height || usesGuidance(r.guidance) !== usesGuidance(first.guidance));
    if (mismatch) throw new Error('generateBatch: the requests of one batch must share steps, eta, size, keys and whether they use guidance');
    const guided = usesGuidance(first.guidance);
    const items = requests.length;
    const texts = [...(guided ? requests.map((r) => r.negativePrompt) : []), ...requests.map((r) => r.prompt)];
    const text = await this.encodeText(texts);
    const textEncoderMs = performance.now() - started;
    const condIndex = (item: number): number => (guided ? items + item : item);
    const batch = texts.length;

    const [channels, height, width] = this.sampleShape(first.size);
    const plane = channels * height * width;
    const rngs = requests.map((r) => new Rng(r.seed));
    const samples = rngs.map((rng) => rng.normals(plane));
    const timesteps = this.scheduler.timesteps(first.steps);
    const timestepType = inputType(this.unet.session, 'timestep');
    const unetSession = this.unet.session;
    // Constant through the run: created once here (and, on the device, uploaded once; see deviceInputs).
    let hiddenTensor = floatTensor(unetSession, 'encoder_hidden_states', text.embeddings, text.dims);
    let keyFeeds = first.keys ? keyFeedsFor(this.instrumented, first.keys) : this.baseKeyFeeds;
    const fetches = ['out_sample', ...(hooks.onAttention ? this.instrumented.layers.map((l) => l.probsOutput) : [])];

    let unetMs = 0;
    const uploadedForRun: ort.Tensor[] = [];
    try {
      if (this.uploader) {
        const uploadStarted = performance.now();
        hiddenTensor = await this.uploader.upload(hiddenTensor);
        uploadedForRun.push(hiddenTensor);
        if (first.keys) {
          keyFeeds = await this.uploader.uploadAll(keyFeeds);
          uploadedForRun.push(...Object.values(keyFeeds));
        } else {
          keyFeeds = this.deviceBaseKeyFeeds ?? keyFeeds;
        }
        unetMs += performance.now() - uploadStarted;
      }
      for (let i = 0; i < timesteps.length; i++) {
        throwIfCancelled();
        const t = timesteps[i];
        const batchSample = new Float32Array(batch * plane);
        for (let b = 0; b < batch; b++) batchSample.set(samples[b % items], b * plane);
        const feeds: Record<string, ort.Tensor> = {
          sample: floatTensor(unetSession, 'sample', batchSample, [batch, channels, height, width]),
          timestep: integerTensor(timestepType, new Array<number>(batch).fill(t), [batch]),
          encoder_hidden_states: hiddenTensor,
          ...keyFeeds,
        };
        const stepStarted = performance.now();
        const out = await this.unet.session.run(feeds, fetches);
        unetMs += performance.now() - stepStarted;
        const noise = float32Data(out.out_sample, 'out_sample');
        requests.forEach((request, item) => {
          const cond = noise.subarray(condIndex(item) * plane, (condIndex(item) + 1) * plane);
          const itemNoise = guided ? combineGuidance(noise.subarray(item * plane, (item + 1) * plane), cond, request.guidance) : cond;
          if (hooks.onAttention) this.emitAttention(out, condIndex(item), i, t, height, width, (captures) => hooks.onAttention?.(item, captures));
          const stepNoise = request.eta > 0 ? rngs[item].normals(plane) : undefined;
          samples[item] = this.scheduler.step(itemNoise, t, samples[item], request.steps, request.eta, stepNoise).prevSample;
        });
        hooks.onProgress?.({ step: i + 1, totalSteps: timesteps.length, timestep: t });
      }
    } finally {
      // The run's own uploads (never the pipeline's base keys); no UNet call is in flight here.
      disposeAll(uploadedForRun);
    }
    throwIfCancelled();
    const decodeStarted = performance.now();
    const images: RasterImage[] = [];
    for (const sample of samples) images.push(await this.decode(sample, channels, height, width));
    const decodeMs = performance.now() - decodeStarted;
    const share = (ms: number): number => ms / items;
    const timings = { textEncoderMs: share(textEncoderMs), unetMs: share(unetMs), decodeMs: share(decodeMs), totalMs: share(performance.now() - started), batchSize: items };
    return images.map((image, item) => ({ image, tokenized: text.tokenized[condIndex(item)], timesteps, timings }));
  }

  private emitAttention(
    out: ort.InferenceSession.ReturnType,
    condIndex: number,
    step: number,
    timestep: number,
    sampleH: number,
    sampleW: number,
    onAttention: (captures: AttentionCapture[]) => void,
  ): void {
    const captures: AttentionCapture[] = [];
    for (const layer of this.instrumented.layers) {
      const tensor = out[layer.probsOutput] as ort.Tensor;
      const probs = float32Data(tensor, layer.probsOutput);
      // [B, heads, Nq, T] per head, or [B, Nq, T] head-averaged.
      const dims = tensor.dims;
      const heads = dims.length === 4 ? dims[1] : 1;
      const queries = dims[dims.length - 2];
      const tokens = dims[dims.length - 1];
      const perSample = heads * queries * tokens;
      const [gridH, gridW] = queryGrid(queries, sampleH, sampleW);
      captures.push({
        layer: layer.name,
        step,
        timestep,
        gridH,
        gridW,
        heads,
        tokens,
        probs: probs.subarray(condIndex * perSample, (condIndex + 1) * perSample),
      });
    }
    onAttention(captures);
  }

  private async decode(sample: Float32Array, channels: number, height: number, width: number): Promise<RasterImage> {
    if (!this.vaeDecoder) return tensorToRgb(sample, height, width);
    const latents = Float32Array.from(sample, (v) => v / VAE_SCALING_FACTOR);
    const session = this.vaeDecoder.session;
    const inputName = session.inputNames[0];
    const out = await session.run({ [inputName]: floatTensor(session, inputName, latents, [1, channels, height, width]) });
    const decoded = out[session.outputNames[0]] as ort.Tensor;
    const [, , outH, outW] = decoded.dims;
    return tensorToRgb(float32Data(decoded, session.outputNames[0]), outH, outW);
  }
}

/** The attention grid of a layer: the sample's aspect ratio, downsampled by a power of two. */
export function queryGrid(queries: number, sampleH: number, sampleW: number): [number, number] {
  const factor = Math.sqrt((sampleH * sampleW) / queries);
  const gridH = Math.round(sampleH / factor);
  const gridW = Math.round(sampleW / factor);
  if (gridH * gridW !== queries) {
    throw new Error(`Cannot place ${queries} attention queries on a grid for a ${sampleH}x${sampleW} sample`);
  }
  return [gridH, gridW];
}

/**
 * Uploads the base keys once where the UNet's provider can keep inputs on the device. A failed upload is
 * not fatal: the run feeds everything from host memory, as on CPU, and `reason` says why.
 */
async function keepKeysOnDevice(
  provider: string,
  wanted: boolean,
  keyFeeds: Record<string, ort.Tensor>,
): Promise<{ uploader?: DeviceUploader; keyFeeds?: Record<string, ort.Tensor>; info: DeviceInputsInfo }> {
  if (!wanted) return { info: { resident: false, reason: 'turned off (deviceInputs: false)' } };
  const uploader = DeviceUploader.for(provider);
  if (!uploader) {
    const reason = provider === 'cpu' ? 'cpu: host memory is the device' : `${provider}: onnxruntime-node 1.30 keeps tensors on the device for WebGPU only`;
    return { info: { resident: false, reason } };
  }
  try {
    const onDevice = await uploader.uploadAll(keyFeeds);
    return { uploader, keyFeeds: onDevice, info: { resident: true, reason: 'webgpu: embeddings uploaded once per run, base keys once' } };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { info: { resident: false, reason: `webgpu: could not keep inputs on the device (${message}); fed from host memory every step` } };
  }
}
