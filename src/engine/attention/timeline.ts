/**
 * Per-step previews for scrubbing through the denoising: for each step, one
 * small map per token, the mean over the selected heads and layers after
 * bringing every layer to one coarse grid (area mean when shrinking).
 * Memory is steps x tokens x grid cells, independent of the layers' sizes.
 */
import { checkStepLayer, headsToRead } from './layout';
import { resizeMaps } from './pool';
import { parseGrid, type Selection } from './selection';
import type { LayerInfo, StepLayerProbs, TokenMaps } from './types';

export interface TimelineOptions {
  readonly tokens: number;
  readonly selection: Selection;
  /** Preview grid; default the coarsest selected grid (8x8 on SD). */
  readonly grid?: number | string;
  /** Keep only these token indices (in this order); default all. */
  readonly tokenIndices?: readonly number[];
}

export interface TimelineFrame {
  readonly step: number;
  readonly timestep: number;
  /** Layers averaged into this frame. */
  readonly layers: number;
  /** `[1, kept tokens, gridH, gridW]`. */
  readonly maps: TokenMaps;
}

interface FrameSum {
  readonly timestep: number;
  layers: number;
  readonly sum: Float64Array;
}

export class AttentionTimeline {
  readonly gridH: number;
  readonly gridW: number;
  readonly tokenIndices: readonly number[];
  private readonly byName: Map<string, LayerInfo>;
  private readonly frameSums = new Map<number, FrameSum>();

  constructor(private readonly options: TimelineOptions) {
    const { selection, tokens } = options;
    if (!(Number.isInteger(tokens) && tokens > 0)) throw new Error(`tokens must be a positive integer, got ${tokens}`);
    if (options.grid !== undefined) {
      [this.gridH, this.gridW] = parseGrid(options.grid);
    } else {
      const coarsest = selection.layers.reduce((a, b) => (b.gridH * b.gridW < a.gridH * a.gridW ? b : a));
      [this.gridH, this.gridW] = [coarsest.gridH, coarsest.gridW];
    }
    this.tokenIndices = options.tokenIndices ?? Array.from({ length: tokens }, (_, i) => i);
    for (const t of this.tokenIndices) {
      if (!Number.isInteger(t) || t < 0 || t >= tokens) throw new Error(`timeline token ${t} is out of range 0..${tokens - 1}`);
    }
    this.byName = new Map(selection.catalogue.map((l) => [l.name, l]));
  }

  add(p: StepLayerProbs): boolean {
    const { selection, tokens } = this.options;
    const layer = checkStepLayer(p, this.byName.get(p.layer), tokens);
    if (!selection.hasLayer(layer.name) || !selection.hasStep(p.step)) return false;
    const heads = headsToRead(p, layer, selection);
    const nq = p.gridH * p.gridW;
    // Head mean of the kept tokens as planes [kept, nq], read straight from the delivered layout (summed in head
    // order, then divided: the same values as summing whole head blocks first).
    const keep = this.tokenIndices;
    const k = keep.length;
    const kept = new Float64Array(k * nq);
    for (const h of heads) {
      const base = h * nq * tokens;
      for (let q = 0; q < nq; q++) {
        const row = base + q * tokens;
        for (let i = 0; i < k; i++) kept[i * nq + q] += p.probs[row + keep[i]];
      }
    }
    for (let i = 0; i < kept.length; i++) kept[i] /= heads.length;
    const small = resizeMaps(kept, this.tokenIndices.length, p.gridH, p.gridW, this.gridH, this.gridW);
    let frame = this.frameSums.get(p.step);
    if (frame === undefined) {
      frame = { timestep: p.timestep, layers: 0, sum: new Float64Array(small.length) };
      this.frameSums.set(p.step, frame);
    }
    for (let i = 0; i < small.length; i++) frame.sum[i] += small[i];
    frame.layers++;
    return true;
  }

  /** Frames in step order. */
  frames(): TimelineFrame[] {
    return [...this.frameSums.keys()].sort((a, b) => a - b).map((step) => this.frame(step));
  }

  frame(step: number): TimelineFrame {
    const f = this.frameSums.get(step);
    if (f === undefined) throw new Error(`the timeline has no frame for step ${step}`);
    const data = new Float32Array(f.sum.length);
    for (let i = 0; i < data.length; i++) data[i] = f.sum[i] / f.layers;
    return {
      step,
      timestep: f.timestep,
      layers: f.layers,
      maps: { height: this.gridH, width: this.gridW, tokens: this.tokenIndices.length, heads: 1, data },
    };
  }
}
