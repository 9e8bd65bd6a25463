/**
 * The Separate-and-Enhance loss (docs/method.md §2) appended to the instrumented UNet, so that one run of its gradient
 * model gives the loss, its terms and every key's gradient (the loss is the seed, fed dL/dL = 1). It is the loss of
 * lossGradients.ts on objectMaps(..., keepHeads: true), per sample b:
 *   M     = sum_l P_l @ S                                   [B, H, N, K]   P_l: a loss layer's probabilities [B, H, N, T]
 *   L_sep = max_{H, N} prod_k M / sum_k M                   (0 where sum_k M <= SUM_EPS, as scores.ts)
 *   a_k   = max_{H, N} G M,   L_en = 1 - min_k a_k
 *   loss  = mean_b (wSep L_sep + wEn L_en)
 * S (the `objects` input, [B, T, K]) puts 1/(L |T_k|) on object k's tokens: the mean over the L layers of the mean
 * over the object's tokens. G [N, N] is gaussianSmooth3x3 (reflect padding) as a matrix, built by smoothing unit maps
 * with it, so the smoothing is the JavaScript one. What differs: float32 instead of float64, and ties in the max and
 * min are shared evenly (autodiff/rules/reduction.ts) where lossGradients.ts gives them to the first entry.
 * What this emits is part of the cached gradient models: changing it needs a new AUTODIFF_VERSION.
 */
import * as ort from 'onnxruntime-node';
import { SUM_EPS } from '../attention/scores';
import { gaussianSmooth3x3 } from '../attention/smoothing';
import { constantTensor, Emitter } from '../autodiff/emitter';
import { GraphIndex } from '../onnx/graph';
import { DataType, defaultOpset, tensorValueInfo, type ModelProto } from '../onnx/proto';

/** What the appended loss reads and how it weighs its terms (plain data: it is part of the gradient model's cache key). */
export interface SepEnGraphSpec {
  /** The loss layers' per-head probability outputs, `[B, heads, N, T]` float32, every layer with as many heads. */
  layers: { probsOutput: string; heads: number }[];
  /** The layers' query grid, N = height * width. */
  height: number;
  width: number;
  /** wSep and wEn. */
  separate: number;
  enhance: number;
}

/** The input and outputs the loss adds: the object selection, the batch loss (a scalar), L_sep and L_en per sample ([B]). */
export const SEP_EN = {
  objects: 'prompt_lens.objects',
  loss: 'prompt_lens.loss',
  separate: 'prompt_lens.loss.separate',
  enhance: 'prompt_lens.loss.enhance',
} as const;

const { FLOAT } = DataType;

/** The model with the S&E loss appended: input SEP_EN.objects, outputs SEP_EN.loss, .separate, .enhance. */
export function withSepEnLoss(model: ModelProto, spec: SepEnGraphSpec): ModelProto {
  if (new Set(spec.layers.map((l) => l.heads)).size !== 1) throw new Error('keepHeads needs the same number of heads in every layer');
  const graph = model.graph!;
  const used = new GraphIndex(graph).usedNames();
  for (const name of Object.values(SEP_EN)) {
    if (used.has(name)) throw new Error(`the graph already has a tensor named ${name}`);
    used.add(name);
  }
  const e = new Emitter(used, defaultOpset(model), 'prompt_lens.loss');
  const zero = e.scalar(0, FLOAT);
  const one = e.scalar(1, FLOAT);

  const select = e.op('Unsqueeze', [SEP_EN.objects, e.int64s([1])]);
  const maps = spec.layers.map((l) => e.op('MatMul', [l.probsOutput, select])).reduce((sum, m) => e.op('Add', [sum, m]));

  const prod = e.reduce('ReduceProd', maps, [3], false);
  const sum = e.reduceSum(maps, [3], false);
  const defined = e.op('Greater', [sum, e.scalar(SUM_EPS, FLOAT)]);
  // Where the ratio is defined as 0, divide by 1 instead: a 0/0 there would put NaN into the gradient.
  const ratio = e.op('Where', [defined, e.op('Div', [prod, e.op('Where', [defined, sum, one])]), zero]);
  e.opTo('Identity', [e.reduce('ReduceMax', ratio, [1, 2], false)], SEP_EN.separate);

  const n = spec.height * spec.width;
  const smoothing = e.fresh('smoothing');
  // Pushed directly: the emitter's cached constants are keyed by their values, N^2 of them here.
  e.initializers.push(constantTensor(smoothing, FLOAT, smoothingMatrix(spec.height, spec.width), [n, n]));
  const peaks = e.reduce('ReduceMax', e.op('MatMul', [smoothing, maps]), [1, 2], false);
  e.opTo('Sub', [one, e.reduce('ReduceMin', peaks, [1], false)], SEP_EN.enhance);

  const weighted = (term: string, w: number) => e.op('Mul', [term, e.scalar(w, FLOAT)]);
  const total = e.op('Add', [weighted(SEP_EN.separate, spec.separate), weighted(SEP_EN.enhance, spec.enhance)]);
  e.opTo('Identity', [e.reduce('ReduceMean', total, [0], false)], SEP_EN.loss);

  return {
    ...model,
    graph: {
      ...graph,
      node: [...(graph.node ?? []), ...e.nodes],
      initializer: [...(graph.initializer ?? []), ...e.initializers],
      input: [...(graph.input ?? []), tensorValueInfo(SEP_EN.objects, ['batch', 'tokens', 'objects'])],
      output: [...(graph.output ?? []), tensorValueInfo(SEP_EN.loss, []), tensorValueInfo(SEP_EN.separate, ['batch']), tensorValueInfo(SEP_EN.enhance, ['batch'])],
    },
  };
}

/**
 * gaussianSmooth3x3 on `[height, width]` maps as G `[N, N]`, row-major, smoothed = G @ map: column q is the
 * smoothing of the unit map at pixel q. N^2 entries (256 KB at 16x16).
 */
export function smoothingMatrix(height: number, width: number): number[] {
  const n = height * width;
  const units = new Float64Array(n * n);
  for (let q = 0; q < n; q++) units[q * n + q] = 1;
  const columns = gaussianSmooth3x3(units, n, height, width);
  return Array.from({ length: n * n }, (_, i) => columns[(i % n) * n + Math.floor(i / n)]);
}

/**
 * The SEP_EN.objects feed, `[B, T, K]`: sample b's object k weighs 1/(layers |T_k|) on each of its tokens (a token
 * listed twice counts twice, as in objectMaps). Every sample needs the same number of objects K.
 */
export function objectSelection(samples: readonly (readonly (readonly number[])[])[], layers: number, tokens: number): ort.Tensor {
  const K = samples[0].length;
  if (samples.some((objects) => objects.length !== K)) throw new Error('the in-graph loss needs the same number of objects in every sample');
  const data = new Float32Array(samples.length * tokens * K);
  samples.forEach((objects, b) => {
    objects.forEach((toks, k) => {
      for (const t of toks) data[(b * tokens + t) * K + k] += 1 / (layers * toks.length);
    });
  });
  return new ort.Tensor('float32', data, [samples.length, tokens, K]);
}
