/**
 * DAAM aggregation (Tang et al., "What the DAAM"): each head's map summed over
 * timesteps, bicubic-upsampled to the output grid, clamped at 0, then averaged
 * over every (layer, head) pair; the coarsest grid is left out by default.
 *
 * DAAM's code sums at the layer's own grid and upsamples + clamps once at the
 * end; bicubic is linear, so only the clamp's position matters. That is the
 * default (`clamp: 'after-sum'`, and it keeps memory at one step's worth);
 * `'per-step'` clamps each step's upsampled map before summing instead.
 */
import { bicubicResize } from './bicubic';
import { addHeadPlanes, checkStepLayer, headsToRead } from './layout';
import type { Selection } from './selection';
import type { LayerInfo, StepLayerProbs, TokenMaps } from './types';

export interface DaamOptions {
  readonly outH: number;
  readonly outW: number;
  readonly tokens: number;
  readonly selection: Selection;
  /** Leave out the model's lowest-resolution grid. Default: true unless the selection named layers or grids. */
  readonly dropCoarsest?: boolean;
  /** Where the clamp at 0 happens. Default `'after-sum'` (as DAAM's code). */
  readonly clamp?: 'after-sum' | 'per-step';
}

/** The selected layers DAAM aggregates. */
export function daamLayers(selection: Selection, dropCoarsest?: boolean): LayerInfo[] {
  const drop = dropCoarsest ?? !selection.explicitLayers;
  if (!drop) return [...selection.layers];
  const coarsest = Math.min(...selection.catalogue.map((l) => l.gridH * l.gridW));
  const kept = selection.layers.filter((l) => l.gridH * l.gridW !== coarsest);
  if (kept.length > 0) return kept;
  if (dropCoarsest === true) {
    throw new Error('dropCoarsest leaves no layer: every selected layer is on the coarsest grid');
  }
  // Only the coarsest grid is selected (or the model has one grid): keep it rather than return nothing.
  return [...selection.layers];
}

interface LayerSum {
  readonly layer: LayerInfo;
  /** Heads as delivered (1 for head-averaged graphs). */
  readonly deliveredHeads: number;
  readonly heads: readonly number[];
  /** `[heads.length, gridH * gridW, tokens]` as delivered (a contiguous add per step), summed over steps. */
  readonly data: Float32Array;
}

export class DaamAggregator {
  readonly layers: readonly LayerInfo[];
  private readonly byName: Map<string, LayerInfo>;
  private readonly sums = new Map<string, LayerSum>();
  private readonly perStep: Float64Array | undefined;
  private readonly pairs = new Set<string>();

  constructor(private readonly options: DaamOptions) {
    const { outH, outW, tokens } = options;
    if (!(Number.isInteger(outH) && outH > 0 && Number.isInteger(outW) && outW > 0)) {
      throw new Error(`daam needs a positive integer output grid, got ${outH}x${outW}`);
    }
    if (!(Number.isInteger(tokens) && tokens > 0)) throw new Error(`tokens must be a positive integer, got ${tokens}`);
    this.layers = daamLayers(options.selection, options.dropCoarsest);
    this.byName = new Map(options.selection.catalogue.map((l) => [l.name, l]));
    this.perStep = options.clamp === 'per-step' ? new Float64Array(tokens * outH * outW) : undefined;
  }

  /** Folds one step/layer in; returns false when the selection skips it. */
  add(p: StepLayerProbs): boolean {
    const layer = checkStepLayer(p, this.byName.get(p.layer), this.options.tokens);
    if (!this.layers.includes(layer) || !this.options.selection.hasStep(p.step)) return false;
    const heads = headsToRead(p, layer, this.options.selection);
    const nq = p.gridH * p.gridW;
    const { tokens, outH, outW } = this.options;
    if (this.perStep !== undefined) {
      const planes = new Float64Array(tokens * nq);
      for (const h of heads) {
        planes.fill(0);
        addHeadPlanes(p.probs, h, nq, tokens, planes);
        const up = bicubicResize(planes, tokens, p.gridH, p.gridW, outH, outW);
        for (let i = 0; i < up.length; i++) if (up[i] > 0) this.perStep[i] += up[i];
        this.pairs.add(`${p.layer}#${h}`);
      }
      return true;
    }
    let sum = this.sums.get(p.layer);
    if (sum === undefined) {
      sum = { layer, deliveredHeads: p.heads, heads, data: new Float32Array(heads.length * tokens * nq) };
      this.sums.set(p.layer, sum);
    } else if (sum.deliveredHeads !== p.heads) {
      throw new Error(`layer '${p.layer}' changed from ${sum.deliveredHeads} to ${p.heads} heads between steps`);
    }
    const block = nq * tokens;
    heads.forEach((h, slot) => {
      const dst = sum.data.subarray(slot * block, (slot + 1) * block);
      const src = p.probs.subarray(h * block, (h + 1) * block);
      for (let i = 0; i < block; i++) dst[i] += src[i];
    });
    return true;
  }

  result(): TokenMaps {
    const { tokens, outH, outW } = this.options;
    const plane = tokens * outH * outW;
    let total: Float64Array;
    let count: number;
    if (this.perStep !== undefined) {
      total = this.perStep;
      count = this.pairs.size;
    } else {
      total = new Float64Array(plane);
      count = 0;
      for (const s of this.sums.values()) {
        const nq = s.layer.gridH * s.layer.gridW;
        const planes = new Float64Array(tokens * nq);
        for (let slot = 0; slot < s.heads.length; slot++) {
          planes.fill(0);
          addHeadPlanes(s.data, slot, nq, tokens, planes);
          const up = bicubicResize(planes, tokens, s.layer.gridH, s.layer.gridW, outH, outW);
          // Bicubic overshoots below 0 next to sharp peaks; DAAM clamps that undershoot.
          for (let i = 0; i < plane; i++) if (up[i] > 0) total[i] += up[i];
          count++;
        }
      }
    }
    if (count === 0) {
      throw new Error(
        `no attention was aggregated: daam uses layers [${this.layers.map((l) => l.name).join(', ')}] ` +
          `and steps ${this.options.selection.steps.from}..${this.options.selection.steps.to}`,
      );
    }
    const data = new Float32Array(plane);
    for (let i = 0; i < plane; i++) data[i] = total[i] / count;
    return { height: outH, width: outW, tokens, heads: 1, data };
  }
}
