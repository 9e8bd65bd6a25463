// The one protocol between the extension host and its webviews (the results panel and the sidebar
// run panel): a discriminated union per direction. Pixels and maps travel as ArrayBuffer, never as JSON number
// arrays, all of a message's buffers packed into one on the way (packedMessage.ts).

/** Scores of the run, as in run.json (docs/method.md §2). */
export interface ScoresView {
  /** L_sep: max over pixels of prod_i M^i / sum_i M^i. */
  overlap: number;
  /** Smoothed peak activation a_i per object word, in object order. */
  activations: { word: string; value: number }[];
  weakest: string;
  enhanceLoss: number;
  totalLoss: number;
  pairs: { a: string; b: string; iou: number; ioaA: number; ioaB: number }[];
}

/** A score recipe as run.json records it (`src/engine/attention/scoreRecipe.ts`). */
export interface ScoreRecipeView {
  layers: { grids?: readonly (string | number)[]; names?: readonly string[] };
  heads: 'mean' | 'max';
  /** Window of 1-based steps: '1-5', 'middle', 'second-half', … */
  steps: string;
  statistic: 'activation' | 'mean-attention' | 'separate' | 'enhance' | 'loss';
  /** Measured on the model: objects that appear (failure) or images that succeed (risk) score at least this. */
  threshold?: number;
}

/** Which object may be missing, and whether the prompt is at risk, as in run.json's `failure`. */
export interface FailureView {
  failure: {
    recipe: ScoreRecipeView;
    description: string;
    /** The steps the recipe's window took on this run, e.g. "steps 11–20". */
    steps: string;
    /** Failure score per object, weakest first; `appears` when the model has a threshold. */
    objects: { word: string; score: number; appears?: boolean }[];
    /** Per object (mark order), the recipe's statistic at every sampling step: a plot of each object's activation over the steps. */
    series: { word: string; values: number[] }[];
    /** E.g. "square may be missing: activation 0.08; objects that appear score ≥ 0.30 on this model". */
    verdict: string;
  };
  risk: {
    recipe: ScoreRecipeView;
    description: string;
    steps: string;
    /** The weakest object's value over the early steps, or the image's S&E loss term there. */
    score: number;
    /** The weakest object (per-object statistics only). */
    word?: string;
    atRisk?: boolean;
    verdict: string;
  };
  /** 'model': recipes measured on the model; 'engine': the paper's layers, not measured there. */
  source: 'model' | 'engine';
}

export interface WordView {
  word: string;
  /** Token positions in the 0-based padded sequence (start token = 0). */
  tokenIndices: number[];
  isObject: boolean;
  /** `<start>` / `<end>`: special tokens shown on request. */
  isSpecial: boolean;
}

/** Per-step maps at the coarsest grid: Float32 `[steps, words, height, width]`, words in `RunView.words` order. */
export interface TimelineView {
  steps: number;
  height: number;
  width: number;
  data: ArrayBuffer;
}

/** The shape detector's verdict (prompts in the model's detector world's vocabulary only). */
export interface DetectionView {
  success: boolean;
  objects: { object: string; status: 'found' | 'wrong-colour' | 'wrong-shape' | 'missing' }[];
  detected: string[];
  extra: string[];
}

/** A cross-attention layer of the run's model, for the layer and head filters. */
export interface LayerView {
  name: string;
  gridH: number;
  gridW: number;
  heads: number;
}

/**
 * Which layers, heads and steps the display maps aggregate (a re-run with the same prompt, seed and
 * steps). Unset fields mean all. Step indices are 0-based and inclusive.
 */
export interface MapFilter {
  /** One layer by name (or a dotted prefix). */
  layer?: string;
  /** One query grid, e.g. '16x16'. */
  grid?: string;
  /** Every layer, the coarsest grid included (without `layer` or `grid`: DAAM's default, which drops it). */
  allLayers?: boolean;
  head?: number;
  steps?: { from: number; to: number };
}

export interface SeedRun {
  seed: number;
  runFolder: string;
  /** The detector's verdict on this seed's image, for the seed strip's ✓/✗. */
  detection?: DetectionView;
  /** The seed's image, PNG bytes (the strip's thumbnail). */
  imagePng?: ArrayBuffer;
}

export interface RunView {
  runId: string;
  runFolder: string;
  prompt: string;
  model: string;
  provider: string;
  seed: number;
  steps: number;
  /** Generated image, PNG bytes. */
  imagePng: ArrayBuffer;
  mapHeight: number;
  mapWidth: number;
  words: WordView[];
  /** Float32 `[words.length, mapHeight, mapWidth]`, raw attention (not normalised). */
  wordMaps: ArrayBuffer;
  /** Float32 `[mapHeight, mapWidth]`: the per-pixel overlap prod/sum of the object maps. */
  overlapMap: ArrayBuffer;
  scores: ScoresView | undefined;
  /** Failure score per object, per-step series, prompt risk and verdicts (runs with marked objects). */
  failure?: FailureView;
  /** Uint8 `[K, mapHeight, mapWidth]`, 1 inside: each object's mask, K in `scores.activations` order. */
  masks?: ArrayBuffer;
  /** Float32 `[K, height, width]`: the head-mean maps the masks binarise (at 0.4 of each max), for a threshold slider. */
  objectMaps?: { height: number; width: number; data: ArrayBuffer };
  /** Every cross-attention layer of the model (the layer and head filters offer these). */
  layers?: LayerView[];
  /** How the display maps were aggregated ("DAAM: 16x16, 8x8 layers, all heads, all 8 steps, …"). */
  mapRecipe?: string;
  /** The filter this run's maps were made with (a filter re-run in this window). */
  filter?: MapFilter;
  /** The runs of the Generate that made this one, one per seed of the file's list (absent for a single seed). */
  seedRuns?: SeedRun[];
  timeline?: TimelineView;
  detection?: DetectionView;
  totalMs: number;
}

/** One prompt and seed sampled with the base keys (before) and the finetuned keys (after). */
export interface ComparisonView {
  prompt: string;
  seed: number;
  /** 'trained' | 'held-out' | 'single-object' for a finetune; 'compare' for Compare. */
  group: string;
  before: RunView;
  after: RunView;
}

export interface CompareView {
  /** The finetune or compare folder's id (its name). */
  id: string;
  folder: string;
  kind: 'finetune' | 'compare';
  /** Names the key set readably (what it was trained on, when: src/shared/keySetName.ts). */
  title: string;
  /** The folder names behind the title, for its tooltip. */
  titleTooltip: string;
  /** Finetune: loss per training step. */
  curve?: number[];
  /** Where the finetuned keys came from (a key set's folder name). */
  keySet?: string;
  comparisons: ComparisonView[];
  /** Which comparison to show first (the cursor's prompt). */
  initial: number;
}

/** What a results panel shows, by folder: enough for the host to load it again (reopen, reload). */
export type ViewRef = { kind: 'run'; folder: string } | { kind: 'compare'; folder: string; initial?: number };

export type JobKind = 'generate' | 'finetune' | 'compare';

export type HostToWebview =
  | { type: 'runStarted'; runId: string; prompt: string; totalSteps: number; kind?: JobKind }
  | { type: 'progress'; runId: string; step: number; totalSteps: number; message?: string }
  | { type: 'result'; run: RunView }
  | { type: 'compare'; view: CompareView }
  | { type: 'runFailed'; runId: string; message: string }
  | { type: 'runCancelled'; runId: string }
  /** Asks the webview to draw the current view into a PNG and send it back (`exportPng`). */
  | { type: 'exportRequest' };

/** What the webview actually drew, reported back so tests (and the host) know the view is complete. */
export interface RenderedState {
  runId: string;
  imageShown: boolean;
  tokenMaps: string[];
  mode?: 'run' | 'compare';
  /** Before/after: the finetuned image is drawn too. */
  afterImageShown?: boolean;
  /** Before/after: the score rows with their deltas, as shown ("Overlap 0.312 → 0.201 (−0.111, better)"). */
  deltas?: string[];
  /** Steps the step slider offers (0 when the run has no timeline). */
  timelineSteps?: number;
  /** The seeds the seed list offers (a Generate of several seeds). */
  seeds?: number[];
  /** Objects whose masks were drawn (the mask grid; before/after: the base run's). */
  masks?: string[];
  /** Before/after: the finetuned run's object masks drawn. */
  afterMasks?: string[];
  /** The overlap matrix's cells as read, row by row ("circle × square IoU 0.25"). */
  matrix?: string[];
  /** The filter the maps were made with. */
  filter?: MapFilter;
  /** How the shown maps were aggregated (the run's or its filter's recipe). */
  recipe?: string;
  /** Options of the layer and head filters (labels). */
  layerOptions?: string[];
  headOptions?: string[];
  /** The verdict line as shown. */
  verdict?: string;
  /** The seed strip's entries as shown ("seed 3 ✗"). */
  seedStrip?: string[];
}

/** What the results webview keeps with setState (restored on reopen and after a reload). */
export interface ResultsWebviewState {
  ref?: ViewRef;
  selectedWord?: string;
  /** Step slider position; `undefined` = all steps (the aggregate map). */
  step?: number;
  comparison?: number;
  /** Before/after split, 0..1 of the width: base left of it, finetuned right of it. */
  reveal?: number;
  /** The map filter of the shown run (`ref`). */
  filter?: MapFilter;
  /** Maps scaled by their own maximum ('map') or by the largest of all words' maps ('shared'). */
  scale?: 'map' | 'shared';
  /** Object masks: each map above this share of its maximum (the scores use 0.4). */
  maskThreshold?: number;
  /** What the main image shows over itself, and how opaque (0..1). */
  overlay?: 'heat' | 'contour' | 'image';
  opacity?: number;
}

export type WebviewToHost =
  | { type: 'ready'; restore?: ViewRef }
  | { type: 'rendered'; state: RenderedState }
  | { type: 'cancel'; runId: string }
  /** Show the shown run with its display maps filtered (a view of it; sampled again only for records that kept too little). */
  | { type: 'filterMaps'; runFolder: string; filter: MapFilter }
  | { type: 'revealRunFolder'; runId: string; folder?: string }
  /** Show another seed's run of the shown Generate (one of the view's `seedRuns`). */
  | { type: 'openSeedRun'; runFolder: string }
  | { type: 'exportPng'; png: ArrayBuffer; name: string; folder?: string };

// ---------------------------------------------------------------------------------------------
// The sidebar run panel (a WebviewView in the Prompt Lens activity-bar container).

export interface JobView {
  id: string;
  kind: JobKind;
  label: string;
  state: 'queued' | 'running';
  step: number;
  totalSteps: number;
  /** "step 3/10 · loss 0.504", "sampling before/after 2/6"… */
  detail: string;
}

export interface HistoryItem {
  folder: string;
  id: string;
  prompt: string;
  createdAt: string;
  seed?: number;
  steps?: number;
  overlap?: number;
  /** Small PNG of the run's image. */
  thumbnail?: ArrayBuffer;
  /** A run sampled again to filter another's maps: that run's id and how its maps were made. */
  filtered?: { from: string; recipe: string };
}

export interface KeySetItem {
  file: string;
  folder: string;
  id: string;
  model: string;
  prompts: string[];
  steps: number;
  lr: number;
  finalLoss?: number;
  /** Made from the model the active .prompt file uses. */
  matchesFile: boolean;
}

export interface SettingRow {
  key: string;
  value: string;
  /** Where the value comes from: the file's front matter, the model's recommended defaults (its prompt_lens.json) or the engine's defaults. */
  source: 'file' | 'model' | 'engine';
  /** The sidebar can set it (a single number). */
  editable?: boolean;
}

export interface SidebarState {
  /** The model in use and its execution provider (from the last run), if any. */
  model?: { id: string; provider: string; fallbacks: string[]; /** From the newest run on disk, not a job of this window. */ fromHistory?: boolean };
  /** The active .prompt file. */
  file?: { name: string; settings: SettingRow[]; prompt?: string };
  trusted: boolean;
  runsDir?: string;
  history: HistoryItem[];
  keySets: KeySetItem[];
  /** The finetune a Start Finetune would run, and where each value comes from. */
  finetune: { steps: number; lr: number; sources: { steps: FinetuneSettingSource; lr: FinetuneSettingSource } };
}

/** A finetune value's origin: the run panel's field, the user's setting, the model's prompt_lens.json, the engine. */
export type FinetuneSettingSource = 'override' | 'setting' | 'model' | 'engine';

export type SidebarToWebview =
  | { type: 'state'; state: SidebarState }
  | { type: 'jobs'; jobs: JobView[] };

export type SidebarToHost =
  | { type: 'ready' }
  | { type: 'rendered'; history: string[]; keySets: string[]; jobs: string[]; model?: string }
  | { type: 'cancel'; jobId: string }
  | { type: 'openRun'; folder: string }
  | { type: 'openFinetune'; folder: string }
  | { type: 'generate' }
  /** Steps and rate only where the user typed them; left out, the model's or the user's settings apply. */
  | { type: 'finetune'; steps?: number; lr?: number }
  | { type: 'compare'; keySetFile: string }
  /** Sets seed, steps or guidance in the active file's front matter (a WorkspaceEdit, undoable). */
  | { type: 'setSetting'; key: 'seed' | 'steps' | 'guidance'; value: number };
