// Memory a sample will need, estimated before sampling starts, so a size the machine cannot hold is
// refused with numbers instead of failing (or taking the process down) part-way into an allocation.
// The estimate counts what grows with the image: attention (self-attention's queries × queries scores
// dominate), the captured cross-attention maps, the analysis' per-layer sums and the activations.
import { totalmem } from 'node:os';

export interface AttentionLayerShape {
  /** diffusers module path, e.g. `up_blocks.2.attentions.0.transformer_blocks.0.attn2`. */
  name: string;
  heads: number;
  innerDim: number;
}

export interface SampleShape {
  /** Latent grid the UNet runs at. */
  height: number;
  width: number;
  /** Samples per UNet call: 2 with classifier-free guidance, 1 without. */
  batch: number;
  /** Text positions each cross-attention map has (the tokenizer's padded length). */
  tokens: number;
  layers: AttentionLayerShape[];
}

export interface MemoryEstimate {
  /** Everything together, bytes. */
  bytes: number;
  /** The largest self-attention score tensor (scores and their softmax, one layer at a time). */
  selfAttention: number;
  /** Every layer's captured maps, in the runtime and copied out, plus the analysis' per-layer sums. */
  crossAttention: number;
  /** The widest layer's hidden states (a handful alive at once). */
  activations: number;
  /** The largest single array handed back to JavaScript (a layer's maps), bytes. */
  largestOutput: number;
  /** The finest attention grid, for messages. */
  finestGrid: { height: number; width: number };
}

const FLOAT_BYTES = 4;
/** Hidden-state copies alive at once in a transformer block (input, norm, q/k/v, output). */
const LIVE_ACTIVATIONS = 8;

/**
 * Each layer's downsampling from its diffusers name: `down_blocks.i` runs at 1/2^i, `up_blocks.j` at
 * 1/2^(last − j), `mid_block` at the coarsest; any other name is taken at full resolution (an upper bound).
 */
export function layerDownsampling(names: string[]): number[] {
  const index = (prefix: string, name: string): number | undefined => {
    const m = new RegExp(`^${prefix}\\.(\\d+)\\.`).exec(name);
    return m ? Number(m[1]) : undefined;
  };
  const downs = names.map((n) => index('down_blocks', n)).filter((i): i is number => i !== undefined);
  const ups = names.map((n) => index('up_blocks', n)).filter((i): i is number => i !== undefined);
  const lastUp = ups.length ? Math.max(...ups) : undefined;
  const midLevel = lastUp ?? (downs.length ? Math.max(...downs) + 1 : 0);
  return names.map((name) => {
    const down = index('down_blocks', name);
    if (down !== undefined) return 2 ** down;
    const up = index('up_blocks', name);
    if (up !== undefined && lastUp !== undefined) return 2 ** (lastUp - up);
    if (name.startsWith('mid_block.')) return 2 ** midLevel;
    return 1;
  });
}

export function estimateSampleMemory(shape: SampleShape): MemoryEstimate {
  const factors = layerDownsampling(shape.layers.map((l) => l.name));
  let selfAttention = 0;
  let crossAttention = 0;
  let activations = 0;
  let largestOutput = 0;
  let finest = { height: 0, width: 0 };
  shape.layers.forEach((layer, i) => {
    const grid = { height: Math.ceil(shape.height / factors[i]), width: Math.ceil(shape.width / factors[i]) };
    const queries = grid.height * grid.width;
    if (queries > finest.height * finest.width) finest = grid;
    // Scores and their softmax, [batch, heads, queries, queries]: one layer's at a time.
    selfAttention = Math.max(selfAttention, 2 * shape.batch * layer.heads * queries * queries * FLOAT_BYTES);
    const maps = shape.batch * layer.heads * queries * shape.tokens * FLOAT_BYTES;
    largestOutput = Math.max(largestOutput, maps);
    // Held by the runtime and copied out for every layer at each step, plus the run's per-layer sums.
    crossAttention += 2 * maps + layer.heads * queries * shape.tokens * FLOAT_BYTES;
    activations = Math.max(activations, LIVE_ACTIVATIONS * shape.batch * layer.innerDim * queries * FLOAT_BYTES);
  });
  return { bytes: selfAttention + crossAttention + activations, selfAttention, crossAttention, activations, largestOutput, finestGrid: finest };
}

export interface MemoryLimit {
  bytes: number;
  /** What the limit is, in words: "half of this computer's 23.4 GiB". */
  basis: string;
}

/** Half of the computer's memory: the rest is the model's weights, the editor and everything else running. */
export function sampleMemoryLimit(total = totalmem()): MemoryLimit {
  return { bytes: total / 2, basis: `half of this computer's ${gib(total)} of memory` };
}

/** Why `estimate` does not fit `limit` (and JavaScript's largest array), or undefined when it fits. */
export function memoryProblem(estimate: MemoryEstimate, limit: MemoryLimit, maxArrayBytes: number): string | undefined {
  const grid = `${estimate.finestGrid.width}x${estimate.finestGrid.height}`;
  if (estimate.bytes > limit.bytes) {
    return `needs about ${gib(estimate.bytes)} for attention and activations (self-attention alone ${gib(estimate.selfAttention)} at the ${grid} attention grid), more than the limit of ${gib(limit.bytes)}, ${limit.basis}`;
  }
  if (estimate.largestOutput > maxArrayBytes) {
    return `would return one layer's attention maps of ${gib(estimate.largestOutput)} at the ${grid} grid, more than the largest array this runtime holds (${gib(maxArrayBytes)})`;
  }
  return undefined;
}

export function gib(bytes: number): string {
  const value = bytes / 2 ** 30;
  return `${value >= 100 ? value.toExponential(2) : value.toFixed(value >= 10 ? 0 : 2)} GiB`;
}
