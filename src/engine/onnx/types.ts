/** Public shapes of the instrumented UNet manifest (see docs/contracts.md, "Instrumented UNet"). */
import type { CacheLocation } from './cache';

export interface InstrumentOptions {
  /** Per-head probabilities [B, heads, Nq, Ntok] instead of the head average [B, Nq, Ntok]. */
  perHead: boolean;
  /** Heads per layer when the graph carries neither a constant head reshape nor a 1/sqrt(d_head) scale. */
  heads?: number;
  /**
   * Let the instrumented copy read its weights from the original file (external data) instead of copying them.
   * Default: only for originals over 256 MiB, so small models stay self-contained (loadable from a buffer).
   */
  shareWeights?: boolean;
  /** Where the copy goes when the model's folder is not writable. Default: the user's cache folder (defaultCacheLocation). */
  cache?: CacheLocation;
}

export type KeyDtype = 'float32' | 'float16';

export interface CrossAttentionLayer {
  /** diffusers module path, e.g. `down_blocks.1.attentions.0.transformer_blocks.0.attn2`. */
  name: string;
  /** Graph output: float32 [B, heads, Nq, Ntok] (perHead) or [B, Nq, Ntok] (head mean). Softmax over Ntok. */
  probsOutput: string;
  /** Graph output: float32 [B, heads, Nq, headDim], queries before the 1/sqrt(headDim) scale. */
  queryOutput: string;
  /** Required graph input replacing the key-projection weight. */
  keyInput: string;
  /** Shape of keyInput as the graph uses it: [textDim, innerDim] when keyTransposed, else [innerDim, textDim]. */
  keyShape: [number, number];
  keyDtype: KeyDtype;
  /** True when the graph multiplies by W_k^T (torch's MatMul export of nn.Linear). */
  keyTransposed: boolean;
  heads: number;
  headDim: number;
  innerDim: number;
  textDim: number;
}

export interface InstrumentedUnet {
  /** The instrumented model: beside the original, or in the user cache (with the external data it reads) when that folder is not writable. */
  path: string;
  /** Original key weights, safetensors, diffusers names `<layer>.to_k.weight` in torch layout [innerDim, textDim]. */
  keysPath: string;
  /** The JSON manifest describing this instrumentation. */
  manifestPath: string;
  /** The model it was made from. */
  sourcePath: string;
  layers: CrossAttentionLayer[];
  perHead: boolean;
}

/** Errors that explain what was found in the model and what to do instead. */
export class InstrumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstrumentError';
  }
}
