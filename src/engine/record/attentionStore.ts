// The raw cross-attention a run keeps in its folder (attention.safetensors), so its display maps can be
// aggregated again for other layers, heads or steps as a view of the same run, without sampling again.
// Compact: only the text positions some word or special token uses, as float16, per step while the
// whole fits a budget (small models), else summed over the steps (step ranges then need a new sampling).
import { AttentionAccumulator, keepTokens, mergeWords, resolveSelection, type LayerInfo, type SelectionOptions, type StepLayerProbs } from '../attention';
import { decodeSafetensors, encodeSafetensors, floatsToHalfs, halfsToFloats, type SafeTensor } from '../safetensors';

/** Per-step maps are kept while they hold at most this many values (8 MB as float16). */
const PER_STEP_BUDGET = 4_000_000;

export interface StoredLayer {
  info: LayerInfo;
  /** `[perStep ? steps : 1, heads, gridH * gridW, kept.length]`, attention probabilities. */
  data: Float32Array;
}

export interface StoredAttention {
  /** The model's padded text length (the width of a capture's token axis). */
  tokens: number;
  /** Token positions stored, ascending; the others were not used by any word. */
  kept: number[];
  /** Sampling steps of the run. */
  steps: number;
  /** Per-step maps; false: each layer's maps summed over every step. */
  perStep: boolean;
  layers: StoredLayer[];
}

/** Collects a run's captures into a StoredAttention (the pipeline's `onAttention` hook feeds it). */
export class AttentionStoreBuilder {
  private readonly sums = new Map<string, { info: LayerInfo; data: Float32Array }>();
  /** Per layer, per step; dropped once the budget is exceeded. */
  private perStep: Map<string, Float32Array[]> | undefined = new Map();
  private values = 0;
  private tokens = 0;

  constructor(
    private readonly kept: number[],
    private readonly steps: number,
    private readonly budget = PER_STEP_BUDGET,
  ) {}

  add(capture: StepLayerProbs): void {
    this.addKept(keepTokens(capture, this.kept), capture.tokens);
  }

  /** A capture already narrowed to the kept positions (`keepTokens`, kept by the store as is); `tokens`: the padded length. */
  addKept(picked: StepLayerProbs, tokens: number): void {
    if (picked.tokens !== this.kept.length) throw new Error(`layer '${picked.layer}': ${picked.tokens} kept tokens, expected ${this.kept.length}`);
    this.tokens = tokens;
    let sum = this.sums.get(picked.layer);
    if (!sum) {
      sum = { info: { name: picked.layer, gridH: picked.gridH, gridW: picked.gridW, heads: picked.heads }, data: new Float32Array(picked.probs.length) };
      this.sums.set(picked.layer, sum);
    }
    if (this.perStep) {
      this.values += picked.probs.length;
      if (this.values <= this.budget) {
        const list = this.perStep.get(picked.layer) ?? [];
        list[picked.step] = picked.probs;
        this.perStep.set(picked.layer, list);
        return; // summed only if the per-step maps outgrow the budget
      }
      this.sumKeptSteps();
      this.perStep = undefined;
    }
    addInto(sum.data, picked.probs);
  }

  /** Folds the per-step maps kept so far into the sums, in step order (the order they would have been added in). */
  private sumKeptSteps(): void {
    for (const [layer, steps] of this.perStep ?? []) {
      const sum = this.sums.get(layer) as { data: Float32Array };
      for (const step of steps) if (step) addInto(sum.data, step);
    }
  }

  result(): StoredAttention {
    const perStep = this.perStep !== undefined && [...this.perStep.values()].every((list) => list.length === this.steps && list.every(Boolean));
    if (this.perStep !== undefined && !perStep) {
      // Steps are missing (a partial run): only the sums can be stored.
      this.sumKeptSteps();
      this.perStep = undefined;
    }
    const layers = [...this.sums.values()].map(({ info, data }) => {
      if (!perStep) return { info, data };
      const steps = this.perStep?.get(info.name) ?? [];
      const all = new Float32Array(this.steps * data.length);
      steps.forEach((step, s) => all.set(step, s * data.length));
      return { info, data: all };
    });
    return { tokens: this.tokens, kept: [...this.kept], steps: this.steps, perStep, layers };
  }
}

function addInto(sum: Float32Array, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) sum[i] += values[i];
}

/** The store as safetensors: one float16 tensor per layer, the rest in the metadata. */
export function encodeAttentionStore(store: StoredAttention): Uint8Array {
  const tensors = new Map<string, SafeTensor>();
  for (const { info, data } of store.layers) {
    tensors.set(info.name, { dtype: 'F16', shape: [store.perStep ? store.steps : 1, info.heads, info.gridH * info.gridW, store.kept.length], data: floatsToHalfs(data) });
  }
  const meta = { tokens: store.tokens, kept: store.kept, steps: store.steps, perStep: store.perStep, layers: store.layers.map((l) => l.info) };
  return encodeSafetensors(tensors, { attention: JSON.stringify(meta) });
}

export function decodeAttentionStore(bytes: Uint8Array, what: string): StoredAttention {
  const file = decodeSafetensors(bytes, what);
  const meta = JSON.parse(file.metadata.attention ?? 'null') as Omit<StoredAttention, 'layers'> & { layers: LayerInfo[] };
  if (!meta || !Array.isArray(meta.layers) || !Array.isArray(meta.kept)) throw new Error(`${what} is not an attention store`);
  const layers = meta.layers.map((info): StoredLayer => {
    const tensor = file.tensors.get(info.name);
    if (!tensor) throw new Error(`${what} has no maps for ${info.name}`);
    return { info, data: tensor.data instanceof Uint16Array ? halfsToFloats(tensor.data) : tensor.data };
  });
  return { tokens: meta.tokens, kept: meta.kept, steps: meta.steps, perStep: meta.perStep, layers };
}

/** Whether `selection` can be aggregated from the store: anything per step; summed maps only cover every step. */
export function canAggregate(store: StoredAttention, selection: SelectionOptions): boolean {
  if (store.perStep) return true;
  const steps = selection.steps;
  if (steps === undefined || steps === 'all') return true;
  if (typeof steps === 'number') return store.steps === 1 && steps === 0;
  return (steps.from ?? 0) <= 0 && (steps.to ?? Infinity) >= store.steps - 1;
}

/** A stored word: its label and the token positions its map averages (a special token has one). */
export interface StoredWord {
  word: string;
  tokenIndices: number[];
  isSpecial: boolean;
}

/**
 * DAAM display maps of `words` (in their order) for `selection`, aggregated from the store exactly as the
 * run aggregated them while sampling, at the run's map grid. Throws when `canAggregate` is false.
 */
export function aggregateStored(
  store: StoredAttention,
  selection: SelectionOptions,
  words: StoredWord[],
  outH: number,
  outW: number,
): { maps: Float32Array[]; grids: string[] } {
  if (!canAggregate(store, selection)) throw new Error('a step range needs per-step maps, which this run did not keep');
  const catalogue = store.layers.map((l) => l.info);
  const accumulator = new AttentionAccumulator({
    outH,
    outW,
    tokens: store.tokens,
    // Summed maps enter as one step holding every step.
    selection: resolveSelection(catalogue, store.perStep ? selection : { ...selection, steps: 'all' }, store.steps),
    recipe: 'daam',
  });
  const { kept, tokens } = store;
  for (const { info, data } of store.layers) {
    const nq = info.gridH * info.gridW;
    const rows = info.heads * nq;
    const stepSize = rows * kept.length;
    for (let s = 0; s < data.length / stepSize; s++) {
      const probs = new Float32Array(rows * tokens);
      for (let row = 0; row < rows; row++) {
        for (let k = 0; k < kept.length; k++) probs[row * tokens + kept[k]] = data[s * stepSize + row * kept.length + k];
      }
      accumulator.add({ layer: info.name, step: s, timestep: 0, gridH: info.gridH, gridW: info.gridW, heads: info.heads, tokens, probs });
    }
  }
  const spans = words.filter((w) => !w.isSpecial).map((w) => ({ word: w.word, tokenIndices: w.tokenIndices }));
  const specials = words.filter((w) => w.isSpecial).map((w) => ({ label: w.word, index: w.tokenIndices[0] }));
  const merged = mergeWords(accumulator.result(), spans, { specials });
  const hw = merged.height * merged.width;
  const maps = words.map((w) => {
    const i = merged.words.indexOf(w.word);
    return merged.data.slice(i * hw, (i + 1) * hw);
  });
  return { maps, grids: [...new Set(accumulator.layers.map((l) => `${l.gridH}x${l.gridW}`))] };
}
