// The Separate-and-Enhance finetune loop (docs/method.md §2–4) on onnxruntime-node: noise-only latents, the loss on
// the per-head instrumented UNet's maps, and the UNet's gradient model (src/engine/autodiff) for dL/dW_k of every
// key through the whole UNet; AdamW with clipping. Without L_norm a step is one run of a gradient model that
// computes the loss itself (lossGraph.ts); with it, a forward for the maps and noise predictions, the loss and
// its gradient in JavaScript, then the gradient model fed those. Keys are graph inputs, so every step feeds the
// updated weights to the same sessions.
import * as ort from 'onnxruntime-node';
import { loadOriginalKeys, type CrossAttentionLayer } from '../onnx/instrument';
import { CancelledError, queryGrid, type Pipeline } from '../pipeline/pipeline';
import { float32Data, floatTensor, inputType, integerTensor, keyTensor } from '../pipeline/tensors';
import { Rng } from '../random';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip';
import { FINETUNE_DEFAULTS } from './finetuneDefaults';
import { DivergenceGuard } from './guard';
import { objectSelection, SEP_EN } from './lossGraph';
import { sepEnLossAndGrad } from './lossGradients';
import { mapGradToProbs, objectMaps } from './mapGradients';
import { UnetGradient, type UnetGradientSpec } from './unetGradient';

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
  /**
   * Weight of the official L_norm (docs/method.md §3): the mean squared difference between the finetuned and the
   * frozen UNet's noise predictions on single-object prompts, at the batch's x_t and t; 0 = off (official
   * large-scale run: 0.5).
   */
  normWeight: number;
  /** Query grid of the layers the loss reads; default: the grid nearest 16 (SD 1.x at 512 px). */
  grid?: number;
  /** Module-name prefixes (e.g. `mid_block`) narrowing the loss's layers within that grid; default: all of them. */
  layerNames?: readonly string[];
  /**
   * Average the heads before the loss, as the debugger's failure scores do, instead of the official per-head maps
   * (always the two-run path, evaluateWithSeeds).
   */
  headMean?: boolean;
}

/**
 * The official recipe's clean sample is 0.18215 * N(0, I) in SD's latent space (0.18215 x the data's
 * unit std). A pixel-space model keeps that ratio to its own data: tiny-shapes' pixels have std 0.272.
 */
export function x0ScaleFor(pipeline: Pick<Pipeline, 'model'>): number {
  return pipeline.model.vaeDecoderPath ? 0.18215 : 0.18215 * 0.272;
}

export const defaultFinetuneOptions: Readonly<FinetuneOptions> = {
  ...FINETUNE_DEFAULTS,
  batch: 4,
  seed: 0,
  separateWeight: 1.0,
  enhanceWeight: 0.5,
  x0Scale: 0.18215,
};

export interface FinetuneStep {
  step: number;
  loss: number;
  separate: number;
  enhance: number;
  /** L_norm before its weight (0 when off). */
  norm: number;
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
  /** The layers whose keys reach the loss through the UNet, hence the ones trained. */
  trainedLayers: string[];
  curve: FinetuneStep[];
  /** Set when the run stopped early: the reason, with `keys` from the last good step. */
  stopped?: string;
}

/** A prompt ready for training: its frozen text embedding `[T, D]` and each object's token positions. */
export interface PreparedPrompt {
  embedding: Float32Array;
  objects: number[][];
  /** Frozen embeddings of its objects alone (L_norm's single-object prompts). */
  singles: Float32Array[];
}

/**
 * The single-object prompts of a training prompt for L_norm: each object with the words that lead up to it
 * from the previous object ("a red circle and a blue square" -> "a red circle", "a blue square"), without
 * the joining "and", "with" or comma.
 */
export function singleObjectPrompts(prompt: TrainingPrompt): string[] {
  let from = 0;
  return [...prompt.objects]
    .sort((a, b) => a.start - b.start)
    .map((o) => {
      const phrase = prompt.text.slice(from, o.end).replace(/^[\s,;]*(?:(?:and|with|next to|beside)\b)?[\s,;]*/i, '');
      from = o.end;
      return phrase.trim();
    });
}

export interface TrainingSample {
  prompt: PreparedPrompt;
  /** A single-object prompt's frozen text embedding for L_norm at the same x_t and t, when it is on. */
  single?: Float32Array;
  t: number;
  /** The noised sample x_t, `[C, H, W]`. */
  xt: Float32Array;
}

export interface LossLayers {
  layers: CrossAttentionLayer[];
  gridH: number;
  gridW: number;
}

/** The batch-mean loss, its terms, and its gradient for every key the loss reaches (graph layout). */
export interface Evaluation {
  loss: number;
  separate: number;
  enhance: number;
  norm: number;
  grads: Map<string, Float64Array>;
}

type LossWeights = Pick<FinetuneOptions, 'separateWeight' | 'enhanceWeight' | 'normWeight' | 'headMean'>;

export class SepEnTrainer {
  /** Gradient models by spec and feed shapes, built on first use. */
  private readonly gradients = new Map<string, UnetGradient>();

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
    const prepared = await this.prepare(prompts, options.normWeight > 0);
    const lossLayers = await this.lossLayers(prepared[0], options.grid, options.layerNames);
    const keys = this.baseKeySet();
    const params = this.layers.map((l) => keys.get(l.name) as Float32Array);
    const optimizer = new AdamW(params, { lr: options.lr, weightDecay: 1e-2 });
    const guard = new DivergenceGuard();
    const rng = new Rng(options.seed);
    const curve: FinetuneStep[] = [];
    let trainedLayers: string[] = [];
    let lastGood = params.map((p) => Float32Array.from(p));

    for (let step = 0; step < options.steps; step++) {
      if (hooks.signal?.aborted) throw new CancelledError();
      const started = performance.now();
      const batch = this.sampleBatch(prepared, rng, step, options);
      const evaluated = await this.evaluate(batch, keys, lossLayers, options);
      trainedLayers = this.layers.filter((l) => evaluated.grads.has(l.name)).map((l) => l.name);
      // Like torch, a key the loss does not reach has no gradient and AdamW leaves it alone (no decay).
      const graphGrads = this.layers.map((l) => evaluated.grads.get(l.name));
      const present = graphGrads.filter((g): g is Float64Array => g !== undefined);
      const stop = guard.check(evaluated.loss, present);
      if (stop) return { keys: restore(this.layers, lastGood), trainedLayers, curve, stopped: stop };
      const gradNorm = clipGradNorm(present, 1.0);
      lastGood = params.map((p) => Float32Array.from(p));
      optimizer.step(graphGrads);
      const record = {
        step: step + 1, loss: evaluated.loss, separate: evaluated.separate, enhance: evaluated.enhance, norm: evaluated.norm, gradNorm,
        ms: performance.now() - started,
      };
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
      const index = step * options.batch + b;
      const prompt = prepared[index % prepared.length];
      const t = Math.min(trainSteps - 1, Math.floor(rng.nextFloat64() * trainSteps));
      const x0 = rng.normals(plane).map((v) => v * options.x0Scale);
      // Each prompt's objects take turns as L_norm's single-object prompt.
      const single = prompt.singles.length ? prompt.singles[Math.floor(index / prepared.length) % prompt.singles.length] : undefined;
      return { prompt, t, xt: scheduler.addNoise(x0, rng.normals(plane), t), single };
    });
  }

  /**
   * The batch-mean loss at `keys` and its gradient for every key the loss reaches, in the graph's layout. Without
   * L_norm, and with as many objects in every prompt, in one run of a gradient model that computes the loss; else
   * in two (evaluateWithSeeds).
   */
  async evaluate(batch: TrainingSample[], keys: Map<string, Float32Array>, lossLayers: LossLayers, weights: LossWeights): Promise<Evaluation> {
    const sameCount = batch.every((s) => s.prompt.objects.length === batch[0].prompt.objects.length);
    return weights.normWeight === 0 && sameCount && !weights.headMean ? this.evaluateInGraph(batch, keys, lossLayers, weights) : this.evaluateWithSeeds(batch, keys, lossLayers, weights);
  }

  /** One run: the gradient model of the UNet with the S&E loss appended, seeded with dL/dL = 1. */
  private async evaluateInGraph(batch: TrainingSample[], keys: Map<string, Float32Array>, lossLayers: LossLayers, weights: LossWeights): Promise<Evaluation> {
    const { layers, gridH, gridW } = lossLayers;
    const feeds = this.feeds(pairRows(batch), keys);
    feeds[SEP_EN.objects] = objectSelection(batch.map((s) => s.prompt.objects), layers.length, this.pipeline.tokenizer.maxLength);
    const loss = {
      layers: layers.map((l) => ({ probsOutput: l.probsOutput, heads: l.heads })), height: gridH, width: gridW,
      separate: weights.separateWeight, enhance: weights.enhanceWeight,
    };
    const gradient = await this.gradientModel({ batch: batch.length, seeds: [SEP_EN.loss], loss }, feeds);
    const { grads, values } = await gradient.run(feeds, new Map([[SEP_EN.loss, { data: Float32Array.of(1), dims: [] }]]));
    const value = (name: string) => values.get(name) as Float32Array;
    const mean = (name: string) => value(name).reduce((sum, v) => sum + v / batch.length, 0);
    return { loss: value(SEP_EN.loss)[0], separate: mean(SEP_EN.separate), enhance: mean(SEP_EN.enhance), norm: 0, grads: widen(grads) };
  }

  /**
   * Two runs, for any batch and L_norm: one forward for the maps (and noise predictions), dL/d(maps) in JavaScript,
   * then the gradient model fed them. Public as the reference the one-run path is checked against.
   */
  async evaluateWithSeeds(batch: TrainingSample[], keys: Map<string, Float32Array>, lossLayers: LossLayers, weights: LossWeights): Promise<Evaluation> {
    const { layers, gridH, gridW } = lossLayers;
    const tokens = this.pipeline.tokenizer.maxLength;
    const B = batch.length;
    const singles = weights.normWeight > 0 ? batch.map((s) => s.single).filter((e): e is Float32Array => e !== undefined) : [];
    if (singles.length !== 0 && singles.length !== B) throw new Error('L_norm needs a single-object prompt for every sample');
    // Rows: the batch's pair prompts, then (with L_norm) the same x_t and t with a single-object prompt.
    const rows = [...pairRows(batch), ...singles.map((e, b) => ({ xt: batch[b].xt, t: batch[b].t, embedding: e }))];
    const noiseOutput = this.session.outputNames[0];
    const seeds = [...layers.map((l) => l.probsOutput), ...(singles.length ? [noiseOutput] : [])];
    const feeds = this.feeds(rows, keys);
    const out = await this.session.run(feeds, seeds);

    let separate = 0;
    let enhance = 0;
    const seedGrads = new Map(layers.map((l) => [l.probsOutput, { data: new Float32Array(rows.length * l.heads * gridH * gridW * tokens), dims: [rows.length, l.heads, gridH * gridW, tokens] }]));
    batch.forEach((sample, b) => {
      const perLayer = layers.map((layer) => {
        const size = layer.heads * gridH * gridW * tokens;
        return { heads: layer.heads, probs: float32Data(out[layer.probsOutput], layer.probsOutput).subarray(b * size, (b + 1) * size) };
      });
      const layout = { height: gridH, width: gridW, tokens, objects: sample.prompt.objects, keepHeads: !weights.headMean };
      const result = sepEnLossAndGrad(objectMaps(perLayer, layout), { separate: weights.separateWeight, enhance: weights.enhanceWeight });
      separate += result.separate / B;
      enhance += result.enhance / B;
      // The batch loss is the mean, so each sample's dL/dM carries 1/B.
      const dProbs = mapGradToProbs(result.grad.map((g) => g / B), layers.map((l) => l.heads), layout);
      layers.forEach((layer, i) => seedGrads.get(layer.probsOutput)!.data.set(dProbs[i], b * dProbs[i].length));
    });
    let loss = weights.separateWeight * separate + weights.enhanceWeight * enhance;

    let norm = 0;
    if (singles.length) {
      const predicted = float32Data(out[noiseOutput], noiseOutput);
      const frozenOut = await this.session.run(this.feeds(rows.slice(B), this.baseKeys), [noiseOutput]);
      const frozen = float32Data(frozenOut[noiseOutput], noiseOutput);
      const plane = frozen.length / B;
      const dNoise = new Float32Array(rows.length * plane);
      // L_norm = mean over every element of (eps - eps_frozen)^2, on the single-object rows only.
      for (let i = 0; i < frozen.length; i++) {
        const diff = predicted[B * plane + i] - frozen[i];
        norm += (diff * diff) / frozen.length;
        dNoise[B * plane + i] = (2 * weights.normWeight * diff) / frozen.length;
      }
      loss += weights.normWeight * norm;
      seedGrads.set(noiseOutput, { data: dNoise, dims: [rows.length, ...(out[noiseOutput] as ort.Tensor).dims.slice(1)] });
    }

    const gradient = await this.gradientModel({ batch: rows.length, seeds }, feeds);
    return { loss, separate, enhance, norm, grads: widen((await gradient.run(feeds, seedGrads)).grads) };
  }

  /** The layers whose maps the loss reads (the grid nearest 16 unless asked, narrowed by name), found from one probe forward. */
  async lossLayers(probePrompt: PreparedPrompt, grid?: number, names?: readonly string[]): Promise<LossLayers> {
    const [channels, height, width] = this.pipeline.sampleShape(undefined);
    const feeds = this.feeds([{ xt: new Float32Array(channels * height * width), t: 500, embedding: probePrompt.embedding }], this.baseKeys);
    const probe = await this.session.run(feeds, this.layers.map((l) => l.probsOutput));
    const grids = this.layers.map((l) => queryGrid(probe[l.probsOutput].dims[2], height, width));
    const sides = [...new Set(grids.map(([, w]) => w))];
    const wanted = grid ?? sides.reduce((best, s) => (Math.abs(s - 16) < Math.abs(best - 16) ? s : best));
    const named = (name: string) => names === undefined || names.some((prefix) => name.startsWith(prefix));
    const layers = this.layers.filter((l, i) => grids[i][1] === wanted && named(l.name));
    if (layers.length === 0) throw new Error(`No cross-attention layer has a ${wanted}-wide grid${names ? ` and a name starting ${names.join(' or ')}` : ''} (grids: ${sides.join(', ')})`);
    const [gridH, gridW] = grids[this.layers.indexOf(layers[0])];
    return { layers, gridH, gridW };
  }

  /** Text embeddings (frozen) and object token positions of each prompt, computed once; with `singles`, also its single-object prompts'. */
  async prepare(prompts: TrainingPrompt[], singles = false): Promise<PreparedPrompt[]> {
    if (prompts.length === 0) throw new Error('The finetune needs at least one prompt with two or more marked objects');
    const singleTexts = singles ? prompts.map(singleObjectPrompts) : prompts.map(() => []);
    const texts = [...prompts.map((p) => p.text), ...singleTexts.flat()];
    const text = await this.pipeline.encodeText(texts);
    const size = text.dims[1] * text.dims[2];
    const embedding = (i: number) => text.embeddings.slice(i * size, (i + 1) * size);
    let next = prompts.length;
    return prompts.map((prompt, i) => {
      const tokenized = text.tokenized[i];
      const objects = prompt.objects.map((o) => {
        const positions = this.pipeline.tokenizer.tokenIndicesForSpan(tokenized, o.start, o.end);
        if (positions.length === 0) throw new Error(`"${o.word}" in "${prompt.text}" falls beyond the token limit`);
        return positions;
      });
      if (objects.length < 2) throw new Error(`"${prompt.text}" needs two or more marked objects for the finetune`);
      return { embedding: embedding(i), objects, singles: singleTexts[i].map(() => embedding(next++)) };
    });
  }

  /** Frees the gradient models' sessions (the pipeline's own session stays). */
  async release(): Promise<void> {
    for (const g of this.gradients.values()) await g.release();
    this.gradients.clear();
  }

  private async gradientModel(spec: UnetGradientSpec, feeds: Record<string, ort.Tensor>): Promise<UnetGradient> {
    const key = JSON.stringify([spec, Object.entries(feeds).map(([name, t]) => [name, t.dims])]);
    let gradient = this.gradients.get(key);
    if (!gradient) {
      gradient = await UnetGradient.create(this.pipeline, spec, feeds);
      this.gradients.set(key, gradient);
    }
    return gradient;
  }

  private feeds(rows: { xt: Float32Array; t: number; embedding: Float32Array }[], keys: Map<string, Float32Array>): Record<string, ort.Tensor> {
    const [channels, height, width] = this.pipeline.sampleShape(undefined);
    const plane = channels * height * width;
    const B = rows.length;
    const samples = new Float32Array(B * plane);
    const embeddingSize = rows[0].embedding.length;
    const hidden = new Float32Array(B * embeddingSize);
    rows.forEach((r, b) => {
      samples.set(r.xt, b * plane);
      hidden.set(r.embedding, b * embeddingSize);
    });
    const textDim = this.layers[0].textDim;
    const feeds: Record<string, ort.Tensor> = {
      sample: floatTensor(this.session, 'sample', samples, [B, channels, height, width]),
      timestep: integerTensor(inputType(this.session, 'timestep'), rows.map((r) => r.t), [B]),
      encoder_hidden_states: floatTensor(this.session, 'encoder_hidden_states', hidden, [B, embeddingSize / textDim, textDim]),
    };
    for (const layer of this.layers) feeds[layer.keyInput] = keyTensor(layer, keys.get(layer.name) as Float32Array);
    return feeds;
  }
}

/** The UNet rows of a batch's pair prompts. */
function pairRows(batch: TrainingSample[]): { xt: Float32Array; t: number; embedding: Float32Array }[] {
  return batch.map((s) => ({ xt: s.xt, t: s.t, embedding: s.prompt.embedding }));
}

function widen(grads: Map<string, Float32Array>): Map<string, Float64Array> {
  return new Map([...grads].map(([name, g]) => [name, Float64Array.from(g)]));
}

function restore(layers: CrossAttentionLayer[], weights: Float32Array[]): Map<string, Float32Array> {
  return new Map(layers.map((l, i) => [l.name, weights[i]]));
}
