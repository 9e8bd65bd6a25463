// Everything one generation produced, in memory: what the run record, the HTML report and the
// webview are built from.
import type { FailureScores } from '../attention/failureScore';
import type { RasterImage } from '../image/png';
import type { GenerateTimings } from '../pipeline/pipeline';
import type { SettingSource } from '../promptFile';
import type { StoredAttention } from './attentionStore';

export interface RunSettings {
  seed: number;
  steps: number;
  guidance: number;
  eta: number;
  negative: string;
  scheduler: 'ddim';
  size?: { width: number; height: number };
  /** Where each value came from (runs of a .prompt file). */
  sources?: Record<Exclude<keyof RunSettings, 'sources'>, RunSettingSource>;
}

/** A SettingSource, or 'override': the job's own value (the CLI's --seed/--steps, a re-run of a run's seed and steps). */
export type RunSettingSource = SettingSource | 'override';

export interface ObjectMark {
  word: string;
  /** Character offsets in the prompt text (marks stripped). */
  start: number;
  end: number;
}

export interface WordMap {
  word: string;
  tokenIndices: number[];
  isObject: boolean;
  isSpecial: boolean;
  /** Aggregated attention `[mapHeight, mapWidth]`, raw (not normalised). */
  map: Float32Array;
}

export interface PairScore {
  a: string;
  b: string;
  iou: number;
  /** Intersection over the area of a's mask, and of b's. */
  ioaA: number;
  ioaB: number;
}

export interface RunScores {
  overlap: number;
  overlapMap: Float32Array;
  activations: { word: string; value: number }[];
  weakest: string;
  enhanceLoss: number;
  totalLoss: number;
  pairs: PairScore[];
  /**
   * Object masks `[K, mapHeight, mapWidth]` (1 inside), K in `activations` order: each object's map
   * binarised at 0.4 of its maximum, the masks the pairs' IoU and intersection-over-area come from.
   */
  masks: Uint8Array;
  /** Which maps the scores were computed on (recipe, layers, step), for the record. */
  basis: string;
  /** The head-mean object maps the masks binarise, `[K, height, width]` at the scoring grid (views set their own threshold). */
  objectMaps?: { height: number; width: number; data: Float32Array };
}

/** The failure and risk scores with their recipes, thresholds, per-step series and verdicts (`src/engine/attention/failureScore.ts`). */
export type RunFailure = FailureScores;

/** A cross-attention layer as the run saw it, so views can offer layer and head filters. */
export interface RunLayer {
  name: string;
  gridH: number;
  gridW: number;
  heads: number;
}

export interface TimelineData {
  timesteps: number[];
  height: number;
  width: number;
  /** Float32 `[steps, words, height, width]`, words in `RunResult.words` order. */
  data: Float32Array;
}

/** The shape detector's verdict (prompts in the model's detector world's vocabulary only), docs/method.md §5. */
export interface RunDetection {
  /** Every requested object found with its colour. */
  success: boolean;
  objects: { object: string; status: 'found' | 'wrong-colour' | 'wrong-shape' | 'missing' }[];
  detected: string[];
  extra: string[];
}

export interface RunResult {
  prompt: string;
  objects: ObjectMark[];
  source?: { file: string; line: number };
  settings: RunSettings;
  model: { id: string; path: string; hash: string };
  provider: { name: string; fallbacks: string[] };
  image: RasterImage;
  tokens: { index: number; id: number; text: string }[];
  mapHeight: number;
  mapWidth: number;
  /** Recipe used for `words[].map`, e.g. "daam: all layers, all heads, all steps". */
  mapRecipe: string;
  /** What the display maps keep when a selection left layers, heads or steps out (CLI flags, a filter sampled again). */
  mapFilter?: string;
  /** The run this one sampled again to filter its maps by steps it did not keep (its folder name). */
  filteredFrom?: string;
  words: WordMap[];
  /** Every cross-attention layer of the model, in graph order. */
  layers: RunLayer[];
  scores?: RunScores;
  /** Which object may be missing (failure score per object, weakest first) and whether the prompt is at risk, by the model's measured recipes. */
  failure?: RunFailure;
  timeline?: TimelineData;
  detection?: RunDetection;
  /** The words' raw attention, kept in the folder so its maps can be filtered without sampling (Generate's runs). */
  attention?: StoredAttention;
  timings: GenerateTimings;
}
