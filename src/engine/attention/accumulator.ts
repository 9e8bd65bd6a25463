/**
 * Streaming aggregation of cross-attention maps. The pipeline calls `add` for
 * every captured step and layer; each call is folded into running sums at
 * once, so memory stays at about one step's maps however many steps run.
 */
import { DaamAggregator } from './daam';
import { SeparateEnhanceAggregator } from './separateEnhance';
import type { Selection } from './selection';
import type { LayerInfo, StepLayerProbs, TokenMaps } from './types';

export interface DaamRecipe {
  readonly kind: 'daam';
  /** Leave out the model's lowest-resolution grid. Default: true unless the selection named layers or grids. */
  readonly dropCoarsest?: boolean;
  /** Where the clamp at 0 happens. Default `'after-sum'` (DAAM's code). */
  readonly clamp?: 'after-sum' | 'per-step';
}

export interface SeparateEnhanceRecipe {
  readonly kind: 'separate-enhance';
  /** Query grid of the layers used; default 16. */
  readonly grid?: number | string;
  /** Keep heads separate (result `[heads, tokens, h, w]`). Default false. */
  readonly keepHeads?: boolean;
}

export type Recipe = DaamRecipe | SeparateEnhanceRecipe;

export interface AccumulatorOptions {
  /** Output grid of `daam` (the latent grid, e.g. 64x64 for SD at 512 px). `separate-enhance` stays at its layers' grid. */
  readonly outH?: number;
  readonly outW?: number;
  readonly tokens: number;
  readonly selection: Selection;
  /** Default `'daam'`, the display recipe. */
  readonly recipe?: Recipe | Recipe['kind'];
}

interface Aggregator {
  readonly layers: readonly LayerInfo[];
  add(p: StepLayerProbs): boolean;
  result(): TokenMaps;
}

export class AttentionAccumulator {
  readonly recipe: Recipe;
  private readonly impl: Aggregator;

  constructor(options: AccumulatorOptions) {
    const r = options.recipe ?? 'daam';
    this.recipe = typeof r === 'string' ? ({ kind: r } as Recipe) : r;
    const { tokens, selection } = options;
    switch (this.recipe.kind) {
      case 'daam': {
        if (options.outH === undefined || options.outW === undefined) {
          throw new Error('the daam recipe needs outH and outW (the output grid)');
        }
        this.impl = new DaamAggregator({
          outH: options.outH,
          outW: options.outW,
          tokens,
          selection,
          dropCoarsest: this.recipe.dropCoarsest,
          clamp: this.recipe.clamp,
        });
        break;
      }
      case 'separate-enhance':
        this.impl = new SeparateEnhanceAggregator({
          tokens,
          selection,
          grid: this.recipe.grid,
          keepHeads: this.recipe.keepHeads,
        });
        break;
      default:
        throw new Error(`unknown recipe '${(this.recipe as { kind: string }).kind}'; use 'daam' or 'separate-enhance'`);
    }
  }

  /** Layers this recipe actually aggregates (after its own filtering of the selection). */
  get layers(): readonly LayerInfo[] {
    return this.impl.layers;
  }

  /** Folds one step/layer into the running sums; false when the selection or recipe skips it. */
  add(p: StepLayerProbs): boolean {
    return this.impl.add(p);
  }

  /** `[heads, tokens, H, W]`; heads is 1 unless separate-enhance keeps them. */
  result(): TokenMaps {
    return this.impl.result();
  }
}
