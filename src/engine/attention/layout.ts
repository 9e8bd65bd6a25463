/**
 * Checks one step/layer of probabilities and turns a head's `[Nq, tokens]`
 * block into token planes `[tokens, Nq]`, the layout the maps are used in.
 */
import type { Selection } from './selection';
import type { LayerInfo, StepLayerProbs } from './types';

/** Throws when `p` does not match the manifest's layer or the expected token count. */
export function checkStepLayer(p: StepLayerProbs, layer: LayerInfo | undefined, tokens: number): LayerInfo {
  if (layer === undefined) throw new Error(`attention for unknown layer '${p.layer}'`);
  if (p.gridH !== layer.gridH || p.gridW !== layer.gridW) {
    throw new Error(`layer '${p.layer}': grid ${p.gridH}x${p.gridW} but the manifest says ${layer.gridH}x${layer.gridW}`);
  }
  // heads = 1 is allowed for graphs that only expose head-averaged maps.
  if (p.heads !== layer.heads && p.heads !== 1) {
    throw new Error(`layer '${p.layer}': ${p.heads} heads but the manifest says ${layer.heads}`);
  }
  if (p.tokens !== tokens) throw new Error(`layer '${p.layer}': ${p.tokens} tokens, expected ${tokens}`);
  const n = p.heads * p.gridH * p.gridW * p.tokens;
  if (p.probs.length !== n) {
    throw new Error(`layer '${p.layer}': probs has ${p.probs.length} values, expected ${p.heads}x${p.gridH * p.gridW}x${p.tokens} = ${n}`);
  }
  return layer;
}

/**
 * Heads to read from `p`: the selected ones, or head 0 alone when the graph
 * gave one head-averaged map (that map then stands for the selected heads).
 */
export function headsToRead(p: StepLayerProbs, layer: LayerInfo, selection: Selection): readonly number[] {
  if (p.heads === 1 && layer.heads !== 1) {
    if (!selection.allHeads) {
      throw new Error(`layer '${p.layer}' gave head-averaged maps, so a head selection cannot be applied; select all heads`);
    }
    return [0];
  }
  return selection.headsOf(layer);
}

/** Adds `weight * probs[head]` transposed to `[tokens, Nq]` into `out`. */
export function addHeadPlanes(
  probs: Float32Array,
  head: number,
  nq: number,
  tokens: number,
  out: Float64Array | Float32Array,
  weight = 1,
): void {
  const base = head * nq * tokens;
  for (let q = 0; q < nq; q++) {
    const row = base + q * tokens;
    for (let t = 0; t < tokens; t++) out[t * nq + q] += weight * probs[row + t];
  }
}

/**
 * `p` narrowed to the token positions `keep` (ascending or not, each in range): `[heads, Nq, keep.length]`, in a new
 * array. Every map is per token, so aggregating the narrowed capture gives the kept tokens' maps unchanged, at a
 * fraction of the work when a prompt uses a few of the padded length's positions.
 */
export function keepTokens(p: StepLayerProbs, keep: readonly number[]): StepLayerProbs {
  const rows = p.heads * p.gridH * p.gridW;
  const k = keep.length;
  const probs = new Float32Array(rows * k);
  for (let row = 0; row < rows; row++) {
    const src = row * p.tokens;
    const dst = row * k;
    for (let i = 0; i < k; i++) probs[dst + i] = p.probs[src + keep[i]];
  }
  return { ...p, tokens: k, probs };
}
