/**
 * Shapes shared by the attention-map modules. Every array is row-major; a 2-D
 * map of a `gridH x gridW` grid stores pixel (y, x) at `y * gridW + x`.
 */

/** One cross-attention layer of the instrumented UNet (from its manifest). */
export interface LayerInfo {
  /** diffusers module name, e.g. `up_blocks.1.attentions.0.transformer_blocks.0.attn2`. */
  readonly name: string;
  readonly gridH: number;
  readonly gridW: number;
  readonly heads: number;
}

/**
 * The conditional sample's attention probabilities of one layer at one
 * sampling step, as the pipeline hands them over.
 * `probs` is laid out `[heads, gridH * gridW, tokens]` (heads = 1 when the
 * graph only gave head-averaged maps).
 */
export interface StepLayerProbs {
  readonly layer: string;
  /** Index of the sampling step (0 = first, noisiest). */
  readonly step: number;
  /** Scheduler timestep of that step (for display only). */
  readonly timestep: number;
  readonly gridH: number;
  readonly gridW: number;
  readonly heads: number;
  readonly tokens: number;
  readonly probs: Float32Array;
}

/** Per-token maps, laid out `[heads, tokens, height, width]`; `heads` is 1 once heads are averaged. */
export interface TokenMaps {
  readonly height: number;
  readonly width: number;
  readonly tokens: number;
  readonly heads: number;
  readonly data: Float32Array;
}

/** Per-word maps, laid out `[heads, words.length, height, width]`. */
export interface WordMaps {
  readonly height: number;
  readonly width: number;
  readonly heads: number;
  /** Labels in output order: merged words first, then requested special tokens. */
  readonly words: readonly string[];
  readonly data: Float32Array;
}

/** K maps handed to the scores, laid out `[heads, count, height, width]`. */
export interface MapStack {
  readonly height: number;
  readonly width: number;
  readonly heads: number;
  readonly count: number;
  readonly data: Float32Array;
}
