/**
 * The maps Separate-and-Enhance's losses see (docs/method.md §1): the layers whose
 * query grid is the 16x16-equivalent (SD at 512 px: latent/4), at one noisy
 * step, averaged over layers. Heads stay separate on request because the
 * official losses take their maximum over heads too. No upsampling: the loss
 * is defined on the raw probabilities at that grid.
 */
import { addHeadPlanes, checkStepLayer, headsToRead } from './layout';
import { gridLabel, parseGrid, type Selection } from './selection';
import type { LayerInfo, StepLayerProbs, TokenMaps } from './types';

export interface SeparateEnhanceOptions {
  readonly tokens: number;
  readonly selection: Selection;
  /** Query grid of the layers to use; default 16 (16x16). */
  readonly grid?: number | string;
  /** Keep heads separate: result `[heads, tokens, h, w]`. Default false (mean over heads). */
  readonly keepHeads?: boolean;
}

export class SeparateEnhanceAggregator {
  readonly layers: readonly LayerInfo[];
  readonly gridH: number;
  readonly gridW: number;
  private readonly byName: Map<string, LayerInfo>;
  private readonly seen = new Set<string>();
  private sum: Float64Array | undefined;
  /** Heads summed into each slot so far (1 per layer when heads are kept). */
  private perSlot = 0;
  private slots = 0;

  constructor(private readonly options: SeparateEnhanceOptions) {
    const { selection, tokens } = options;
    if (!(Number.isInteger(tokens) && tokens > 0)) throw new Error(`tokens must be a positive integer, got ${tokens}`);
    [this.gridH, this.gridW] = parseGrid(options.grid ?? 16);
    this.layers = selection.layers.filter((l) => l.gridH === this.gridH && l.gridW === this.gridW);
    if (this.layers.length === 0) {
      const grids = [...new Set(selection.layers.map((l) => gridLabel(l.gridH, l.gridW)))];
      throw new Error(
        `separate-enhance: no selected layer has a ${gridLabel(this.gridH, this.gridW)} grid (selected grids: ${grids.join(', ')}); set recipe.grid`,
      );
    }
    if (!selection.singleStep) {
      throw new Error('separate-enhance is defined at one noisy step; select a single step (selection.steps = N)');
    }
    if (options.keepHeads) {
      const counts = new Set(this.layers.map((l) => selection.headsOf(l).length));
      if (counts.size > 1) throw new Error('separate-enhance keepHeads needs the same number of heads in every layer used');
    }
    this.byName = new Map(selection.catalogue.map((l) => [l.name, l]));
  }

  add(p: StepLayerProbs): boolean {
    const layer = checkStepLayer(p, this.byName.get(p.layer), this.options.tokens);
    if (!this.layers.includes(layer) || !this.options.selection.hasStep(p.step)) return false;
    if (this.seen.has(p.layer)) throw new Error(`layer '${p.layer}' was given twice for the selected step`);
    const heads = headsToRead(p, layer, this.options.selection);
    if (this.options.keepHeads && p.heads === 1 && layer.heads !== 1) {
      throw new Error(`layer '${p.layer}' gave head-averaged maps; keepHeads is impossible`);
    }
    const { tokens } = this.options;
    const nq = p.gridH * p.gridW;
    const slots = this.options.keepHeads ? heads.length : 1;
    if (this.sum === undefined) {
      this.slots = slots;
      this.sum = new Float64Array(slots * tokens * nq);
    }
    // A head-averaged map stands for all of the layer's heads, so it weighs as many.
    const weight = p.heads === 1 ? layer.heads : 1;
    const sum = this.sum;
    heads.forEach((h, i) => {
      const slot = this.options.keepHeads ? i : 0;
      addHeadPlanes(p.probs, h, nq, tokens, sum.subarray(slot * tokens * nq, (slot + 1) * tokens * nq), weight);
    });
    this.perSlot += this.options.keepHeads ? 1 : heads.length * weight;
    this.seen.add(p.layer);
    return true;
  }

  result(): TokenMaps {
    if (this.sum === undefined) {
      throw new Error(
        `no attention was aggregated: separate-enhance uses layers [${this.layers.map((l) => l.name).join(', ')}] at step ${this.options.selection.steps.from}`,
      );
    }
    const data = new Float32Array(this.sum.length);
    for (let i = 0; i < data.length; i++) data[i] = this.sum[i] / this.perSlot;
    return { height: this.gridH, width: this.gridW, tokens: this.options.tokens, heads: this.slots, data };
  }
}
