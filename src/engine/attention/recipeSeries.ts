/**
 * Per-step values of score recipes, computed as the sampler hands over each step's maps: only the marked
 * objects' tokens of the layers the recipes read are looked at, and each step leaves a few numbers behind,
 * so every step window of a recipe is evaluated afterwards from one capture (the quality benchmark scores
 * hundreds of recipes per image this way).
 */
import { resizeMaps } from './pool';
import { describeLayers, recipeLayers, type RecipeHeads, type RecipeLayers, type RecipeStatistic } from './scoreRecipe';
import { activation, overlap } from './scores';
import type { LayerInfo, MapStack, StepLayerProbs } from './types';

/** A recipe without its step window: what is computed at every step. */
export interface SeriesSpec {
  readonly layers: RecipeLayers;
  readonly heads: RecipeHeads;
  readonly statistic: RecipeStatistic;
}

export function seriesKey(spec: SeriesSpec): string {
  return JSON.stringify([spec.layers.grids ?? null, spec.layers.names ?? null, spec.heads, spec.statistic]);
}

/**
 * The maps of K objects at one layer and step, `[heads, K, nq]`: each object's map is the mean of its
 * token positions' maps (Separate-and-Enhance's 1/|T_k| token weights).
 */
export function objectMaps(p: StepLayerProbs, objectTokens: readonly (readonly number[])[]): Float64Array {
  const nq = p.gridH * p.gridW;
  const k = objectTokens.length;
  const out = new Float64Array(p.heads * k * nq);
  for (let h = 0; h < p.heads; h++) {
    objectTokens.forEach((positions, o) => {
      const plane = (h * k + o) * nq;
      for (let q = 0; q < nq; q++) {
        const row = (h * nq + q) * p.tokens;
        let s = 0;
        for (const t of positions) s += p.probs[row + t];
        out[plane + q] = s / positions.length;
      }
    });
  }
  return out;
}

/** The values of one statistic on a stack `[heads, K, h, w]`: K per object, else one. Heads are maxed over, as S&E does. */
export function statisticOf(statistic: RecipeStatistic, stack: MapStack): number[] {
  const { heads, count, height, width } = stack;
  const hw = height * width;
  switch (statistic) {
    case 'activation':
      return perObjectPeaks(stack);
    case 'mean-attention':
      return Array.from({ length: count }, (_, k) => {
        let best = -Infinity;
        for (let h = 0; h < heads; h++) {
          let s = 0;
          const base = (h * count + k) * hw;
          for (let i = 0; i < hw; i++) s += stack.data[base + i];
          best = Math.max(best, s / hw);
        }
        return best;
      });
    case 'separate':
      return [separateTerm(stack)];
    case 'enhance':
      return [1 - Math.min(...perObjectPeaks(stack))];
    case 'loss':
      return [separateTerm(stack) + 0.5 * (1 - Math.min(...perObjectPeaks(stack)))];
  }
}

function perObjectPeaks(stack: MapStack): number[] {
  return [...activation(stack).peaks];
}

/** L_sep, 0 for a single object (prod/sum is then 1 everywhere and says nothing). */
function separateTerm(stack: MapStack): number {
  return stack.count >= 2 ? overlap(stack).value : 0;
}

interface View {
  readonly layers: readonly LayerInfo[];
  readonly heads: RecipeHeads;
  readonly gridH: number;
  readonly gridW: number;
  readonly specs: SeriesSpec[];
}

export class RecipeSeries {
  /** Object count. */
  readonly objects: number;
  private readonly views = new Map<string, View>();
  private readonly needed = new Set<string>();
  /** Per series key: values per step (`[step][value]`). */
  private readonly values = new Map<string, number[][]>();

  /** Throws (naming the recipe's layers) when a spec does not fit the model's layers. */
  constructor(
    catalogue: readonly LayerInfo[],
    private readonly objectTokens: readonly (readonly number[])[],
    specs: readonly SeriesSpec[],
  ) {
    if (objectTokens.length === 0 || objectTokens.some((t) => t.length === 0)) throw new Error('every object needs at least one token position');
    this.objects = objectTokens.length;
    for (const spec of specs) {
      const viewKey = JSON.stringify([spec.layers.grids ?? null, spec.layers.names ?? null, spec.heads]);
      let view = this.views.get(viewKey);
      if (!view) {
        const layers = recipeLayers(catalogue, spec.layers);
        if (spec.heads === 'max' && new Set(layers.map((l) => l.heads)).size > 1) {
          throw new Error(`heads 'max' needs the same number of heads in every layer of ${describeLayers(spec.layers)} (they have ${[...new Set(layers.map((l) => l.heads))].join(' and ')}); use heads 'mean'`);
        }
        const coarsest = layers.reduce((a, b) => (b.gridH * b.gridW < a.gridH * a.gridW ? b : a));
        view = { layers, heads: spec.heads, gridH: coarsest.gridH, gridW: coarsest.gridW, specs: [] };
        this.views.set(viewKey, view);
        layers.forEach((l) => this.needed.add(l.name));
      }
      if (!view.specs.some((s) => seriesKey(s) === seriesKey(spec))) view.specs.push(spec);
      this.values.set(seriesKey(spec), []);
    }
  }

  /** Every layer's maps of one sampling step (the pipeline's `onAttention` batch). */
  addStep(captures: readonly StepLayerProbs[]): void {
    if (captures.length === 0) return;
    const step = captures[0].step;
    const maps = new Map<string, { p: StepLayerProbs; maps: Float64Array }>();
    for (const p of captures) {
      if (p.step !== step) throw new Error(`one step at a time: got steps ${step} and ${p.step} together`);
      if (this.needed.has(p.layer)) maps.set(p.layer, { p, maps: objectMaps(p, this.objectTokens) });
    }
    for (const view of this.views.values()) {
      const stack = this.viewStack(view, maps, step);
      for (const spec of view.specs) {
        const series = this.values.get(seriesKey(spec)) as number[][];
        series[step] = statisticOf(spec.statistic, stack);
      }
    }
  }

  /** The view's layers at its grid, averaged: `[heads, K, h, w]` for 'max', the head mean `[1, K, h, w]` for 'mean'. */
  private viewStack(view: View, maps: Map<string, { p: StepLayerProbs; maps: Float64Array }>, step: number): MapStack {
    const k = this.objects;
    const hw = view.gridH * view.gridW;
    const heads = view.heads === 'max' ? view.layers[0].heads : 1;
    const sum = new Float64Array(heads * k * hw);
    for (const layer of view.layers) {
      const entry = maps.get(layer.name);
      if (!entry) throw new Error(`step ${step + 1} has no maps of layer '${layer.name}'`);
      const { p } = entry;
      const resized = resizeMaps(entry.maps, p.heads * k, p.gridH, p.gridW, view.gridH, view.gridW);
      if (view.heads === 'max') {
        for (let i = 0; i < sum.length; i++) sum[i] += resized[i];
      } else {
        for (let h = 0; h < p.heads; h++) for (let i = 0; i < k * hw; i++) sum[i] += resized[h * k * hw + i] / p.heads;
      }
    }
    const data = new Float32Array(sum.length);
    for (let i = 0; i < data.length; i++) data[i] = sum[i] / view.layers.length;
    return { heads, count: k, height: view.gridH, width: view.gridW, data };
  }

  /** A spec's values per step, `[step][object]` (or `[step][0]` for a per-image statistic). */
  series(spec: SeriesSpec): number[][] {
    const series = this.values.get(seriesKey(spec));
    if (!series) throw new Error(`no series was computed for ${seriesKey(spec)}`);
    return series;
  }

  /** Steps seen so far (the last step index + 1). */
  get steps(): number {
    let n = 0;
    for (const s of this.values.values()) n = Math.max(n, s.length);
    return n;
  }
}

/** Mean over the window of each value's per-step series. */
export function windowMean(series: readonly (readonly number[])[], range: { from: number; to: number }): number[] {
  const rows: (readonly number[])[] = [];
  // A plain loop: the series is indexed by step, and a step never captured is a hole that slice/some would skip.
  for (let step = range.from; step <= range.to; step++) {
    if (series[step] === undefined) throw new Error(`steps ${range.from + 1}–${range.to + 1} were not all captured (step ${step + 1} is missing)`);
    rows.push(series[step]);
  }
  return rows[0].map((_, i) => rows.reduce((s, r) => s + r[i], 0) / rows.length);
}
