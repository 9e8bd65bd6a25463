// The Separate-and-Enhance finetune loop (method.md §2–4) on onnxruntime-node: noise-only latents,
// one UNet forward per batch on a per-head instrumented graph, the layer-local analytic gradient of
// the loss for each S&E layer's key projection, AdamW with clipping. Keys are graph inputs, so every
// step feeds the updated weights to the same session: nothing is rebuilt.
import * as ort from 'onnxruntime-node';
import { loadOriginalKeys, type CrossAttentionLayer } from '../onnx/instrument';
import { CancelledError, queryGrid, type Pipeline } from '../pipeline/pipeline';
import { float32Data, floatTensor, inputType, integerTensor, keyTensor } from '../pipeline/tensors';
import { Rng } from '../random';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip';
import { DivergenceGuard } from './guard';
import { keyWeightGradient, transpose2d } from './keyGradient';
import { sepEnLossAndGrad } from './lossGradients';
import { mapGradToProbs, objectMaps } from './mapGradients';
import { keyPull } from './regularisers';

/** A training prompt: its text and the token positions of each object (found by position, never hard-coded). */
export interface TrainingPrompt {
  text: string;
  /** Character spans of the objects in `text`. */
  objects: { word: string; start: number; end: number }[];
}

export interface FinetuneOptions {
  steps: number;
  /** Constant learning rate. */
  lr: number;
  /** Official: 4. */
  batch: number;
  seed: number;
  /** Official: 1.0 and 0.5. */
  separateWeight: number;
  enhanceWeight: number;
  /** Scale of the noise-only clean sample x0 = s * N(0, I); official 0.18215 (SD's latent scale). */
  x0Scale: number;
  /** L2 pull of the keys toward the base model's (the layer-local stand-in for L_norm); 0 = off. */
  keyPull: number;
  /** Query grid of the layers the loss reads; default: the grid nearest 16 (SD 1.x at 512 px). */
  grid?: number;
}

/**
 * The official recipe's clean sample is 0.18215 * N(0, I) in SD's latent space (0.18215 x the data's
 * unit std). A pixel-space model keeps that ratio to its own data: tiny-shapes' pixels have std 0.272.
 */
export function x0ScaleFor(pipeline: Pick<Pipeline, 'model'>): number {
  return pipeline.model.vaeDecoderPath ? 0.18215 : 0.18215 * 0.272;
}

export const defaultFinetuneOptions: Readonly<FinetuneOptions> = {
  steps: 200,
  // Measured on tiny-shapes (npm run finetune-table): 1e-4 lowers detector success by 10-15 points, 3e-5 leaves it
  // unchanged; the official per-pair rate for SD 1.x is 8e-6.
  lr: 3e-5,
  batch: 4,
  seed: 0,
  separateWeight: 1.0,
  enhanceWeight: 0.5,
  x0Scale: 0.18215,
  keyPull: 0,
};

export interface FinetuneStep {
  step: number;
  loss: number;
  separate: number;
  enhance: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  ms: number;
}

export interface FinetuneHooks {
  signal?: AbortSignal;
  onStep?(step: FinetuneStep): void;
}

export interface FinetuneResult {
  /** Every layer's key weights in the graph's layout (untrained layers unchanged). */
  keys: Map<string, Float32Array>;
  /** The layers the loss reads, hence the ones trained. */
  trainedLayers: string[];
  curve: FinetuneStep[];
  /** Set when the run stopped early: the reason, with `keys` from the last good step. */
  stopped?: string;
}

/** A prompt ready for training: its frozen text embedding `[T, D]` and each object's token positions. */
export interface PreparedPrompt {
  embedding: Float32Array;
  objects: number[][];
}

export interface TrainingSample {
  prompt: PreparedPrompt;
  t: number;
  /** The noised sample x_t, `[C, H, W]`. */
  xt: Float32Array;
}

export interface LossLayers {
  layers: CrossAttentionLayer[];
  gridH: number;
  gridW: number;
}

export class SepEnTrainer {
  private constructor(
    private readonly pipeline: Pipeline,
    private readonly session: ort.InferenceSession,
    readonly layers: CrossAttentionLayer[],
    private readonly baseKeys: Map<string, Float32Array>,
  ) {}

  /** Trains through the pipeline's own UNet session, which must give per-head maps (the loss maxes over heads). */
  static async create(pipeline: Pipeline): Promise<SepEnTrainer> {
    if (!pipeline.instrumented.perHead) throw new Error('The finetune needs a pipeline loaded with per-head attention outputs');
    const instrumented = pipeline.instrumented;
    return new SepEnTrainer(pipeline, pipeline.unetSession, instrumented.layers, await loadOriginalKeys(instrumented));
  }

  /** A copy of the base model's keys, in the graph's layout. */
  baseKeySet(): Map<string, Float32Array> {
    return new Map([...this.baseKeys].map(([name, w]) => [name, Float32Array.from(w)]));
  }

  async train(prompts: TrainingPrompt[], options: FinetuneOptions, hooks: FinetuneHooks = {}): Promise<FinetuneResult> {
    const prepared = await this.prepare(prompts);
    const lossLayers = await this.lossLayers(prepared[0], options.grid);
    const keys = this.baseKeySet();
    const params = this.layers.map((l) => keys.get(l.name) as Float32Array);
    const optimizer = new AdamW(params, { lr: options.lr, weightDecay: 1e-2 });
    const guard = new DivergenceGuard();
    const rng = new Rng(options.seed);
    const curve: FinetuneStep[] = [];
    const trainedLayers = lossLayers.layers.map((l) => l.name);
    let lastGood = params.map((p) => Float32Array.from(p));

    for (let step = 0; step < options.steps; step++) {
      if (hooks.signal?.aborted) throw new CancelledError();
      const started = performance.now();
      const batch = this.sampleBatch(prepared, rng, step, options);
      const evaluated = await this.evaluate(batch, keys, lossLayers, options);
      let loss = evaluated.loss;
      // keyPull: the layer-local stand-in for L_norm, keeping keys near the base model's.
      if (options.keyPull > 0) {
        for (const layer of lossLayers.layers) {
          const pull = keyPull(keys.get(layer.name) as Float32Array, this.baseKeys.get(layer.name) as Float32Array, options.keyPull);
          loss += pull.value;
          const g = evaluated.grads.get(layer.name) as Float64Array;
          for (let i = 0; i < g.length; i++) g[i] += pull.grad[i];
        }
      }
      const graphGrads = this.layers.map((l) => evaluated.grads.get(l.name));
      const present = graphGrads.filter((g): g is Float64Array => g !== undefined);
      const stop = guard.check(loss, present);
      if (stop) return { keys: restore(this.layers, lastGood), trainedLayers, curve, stopped: stop };
      const gradNorm = clipGradNorm(present, 1.0);
      lastGood = params.map((p) => Float32Array.from(p));
      optimizer.step(graphGrads);
      const record = { step: step + 1, loss, separate: evaluated.separate, enhance: evaluated.enhance, gradNorm, ms: performance.now() - started };
      curve.push(record);
      hooks.onStep?.(record);
    }
    return { keys, trainedLayers, curve };
  }

  /** The official data recipe: noise-only clean samples, noised at a uniform timestep per sample. */
  sampleBatch(prepared: PreparedPrompt[], rng: Rng, step: number, options: Pick<FinetuneOptions, 'batch' | 'x0Scale'>): TrainingSample[] {
    const [channels, height, width] = this.pipeline.sampleShape(undefined);
    const plane = channels * height * width;
    const scheduler = this.pipeline.scheduler;
    const trainSteps = scheduler.config.numTrainTimesteps;
    return Array.from({ length: options.batch }, (_, b) => {
      const prompt = prepared[(step * options.batch + b) % prepared.length];
      const t = Math.min(trainSteps - 1, Math.floor(rng.nextFloat64() * trainSteps));
      const x0 = rng.normals(plane).map((v) => v * options.x0Scale);
      return { prompt, t, xt: scheduler.addNoise(x0, rng.normals(plane), t) };
    });
  }

  /**
   * The batch-mean loss at `keys` and its layer-local gradient for each loss layer's key, in the
   * graph's layout (method.md §4: each layer's queries are taken as inputs).
   */
  async evaluate(
    batch: TrainingSample[],
    keys: Map<string, Float32Array>,
    lossLayers: LossLayers,
    weights: Pick<FinetuneOptions, 'separateWeight' | 'enhanceWeight'>,
  ): Promise<{ loss: number; separate: number; enhance: number; grads: Map<string, Float64Array> }> {
    const { layers, gridH, gridW } = lossLayers;
    const tokens = this.pipeline.tokenizer.maxLength;
    const out = await this.forward(batch, keys, layers);
    const grads = new Map<string, Float64Array>(layers.map((l) => [l.name, new Float64Array(l.textDim * l.innerDim)]));
    let loss = 0;
    let separate = 0;
    let enhance = 0;
    const B = batch.length;
    batch.forEach((sample, b) => {
      const perLayer = layers.map((layer) => {
        const probs = float32Data(out[layer.probsOutput], layer.probsOutput);
        const size = layer.heads * gridH * gridW * tokens;
        return { heads: layer.heads, probs: probs.subarray(b * size, (b + 1) * size) };
      });
      const layout = { height: gridH, width: gridW, tokens, objects: sample.prompt.objects, keepHeads: true };
      const result = sepEnLossAndGrad(objectMaps(perLayer, layout), { separate: weights.separateWeight, enhance: weights.enhanceWeight });
      loss += result.total / B;
      separate += result.separate / B;
      enhance += result.enhance / B;
      // The batch loss is the mean, so each sample's dL/dM carries 1/B.
      const dProbs = mapGradToProbs(result.grad.map((g) => g / B), layers.map((l) => l.heads), layout);
      layers.forEach((layer, i) => {
        const queries = float32Data(out[layer.queryOutput], layer.queryOutput);
        const qSize = layer.heads * gridH * gridW * layer.headDim;
        const shape = { heads: layer.heads, queries: gridH * gridW, headDim: layer.headDim, tokens, embedDim: layer.textDim };
        const q = queries.subarray(b * qSize, (b + 1) * qSize);
        keyWeightGradient(shape, [{ q, e: sample.prompt.embedding, probs: perLayer[i].probs, dProbs: dProbs[i] }], grads.get(layer.name));
      });
    });
    // keyWeightGradient works in W^T [D, inner]; graphs that hold W itself get the transpose.
    for (const layer of layers) {
      if (!layer.keyTransposed) grads.set(layer.name, transpose2d(grads.get(layer.name) as Float64Array, layer.textDim, layer.innerDim));
    }
    return { loss, separate, enhance, grads };
  }

  /** The layers whose maps the loss reads (the grid nearest 16 unless asked), found from one probe forward. */
  async lossLayers(probePrompt: PreparedPrompt, grid?: number): Promise<LossLayers> {
    const [channels, height, width] = this.pipeline.sampleShape(undefined);
    const probe = await this.forward([{ prompt: probePrompt, t: 500, xt: new Float32Array(channels * height * width) }], this.baseKeys, this.layers, 'probs');
    const grids = this.layers.map((l) => queryGrid(probe[l.probsOutput].dims[2], height, width));
    const sides = [...new Set(grids.map(([, w]) => w))];
    const wanted = grid ?? sides.reduce((best, s) => (Math.abs(s - 16) < Math.abs(best - 16) ? s : best));
    const layers = this.layers.filter((_, i) => grids[i][1] === wanted);
    if (layers.length === 0) throw new Error(`No cross-attention layer has a ${wanted}-wide grid (grids: ${sides.join(', ')})`);
    const [gridH, gridW] = grids[this.layers.indexOf(layers[0])];
    return { layers, gridH, gridW };
  }

  /** Text embeddings (frozen) and object token positions of each prompt, computed once. */
  async prepare(prompts: TrainingPrompt[]): Promise<PreparedPrompt[]> {
    if (prompts.length === 0) throw new Error('The finetune needs at least one prompt with two or more marked objects');
    const text = await this.pipeline.encodeText(prompts.map((p) => p.text));
    const size = text.dims[1] * text.dims[2];
    return prompts.map((prompt, i) => {
      const tokenized = text.tokenized[i];
      const objects = prompt.objects.map((o) => {
        const positions = this.pipeline.tokenizer.tokenIndicesForSpan(tokenized, o.start, o.end);
        if (positions.length === 0) throw new Error(`"${o.word}" in "${prompt.text}" falls beyond the token limit`);
        return positions;
      });
      if (objects.length < 2) throw new Error(`"${prompt.text}" needs two or more marked objects for the finetune`);
      return { embedding: text.embeddings.slice(i * size, (i + 1) * size), objects };
    });
  }

  private async forward(
    batch: TrainingSample[],
    keys: Map<string, Float32Array>,
    layers: CrossAttentionLayer[],
    fetch: 'probs' | 'probs+queries' = 'probs+queries',
  ): Promise<ort.InferenceSession.ReturnType> {
    const [channels, height, width] = this.pipeline.sampleShape(undefined);
    const plane = channels * height * width;
    const B = batch.length;
    const samples = new Float32Array(B * plane);
    const embeddingSize = batch[0].prompt.embedding.length;
    const hidden = new Float32Array(B * embeddingSize);
    batch.forEach((s, b) => {
      samples.set(s.xt, b * plane);
      hidden.set(s.prompt.embedding, b * embeddingSize);
    });
    const textDim = this.layers[0].textDim;
    const feeds: Record<string, ort.Tensor> = {
      sample: floatTensor(this.session, 'sample', samples, [B, channels, height, width]),
      timestep: integerTensor(inputType(this.session, 'timestep'), batch.map((s) => s.t), [B]),
      encoder_hidden_states: floatTensor(this.session, 'encoder_hidden_states', hidden, [B, embeddingSize / textDim, textDim]),
    };
    for (const layer of this.layers) feeds[layer.keyInput] = keyTensor(layer, keys.get(layer.name) as Float32Array);
    const fetches = layers.flatMap((l) => (fetch === 'probs' ? [l.probsOutput] : [l.probsOutput, l.queryOutput]));
    return this.session.run(feeds, fetches);
  }
}

function restore(layers: CrossAttentionLayer[], weights: Float32Array[]): Map<string, Float32Array> {
  return new Map(layers.map((l, i) => [l.name, weights[i]]));
}
