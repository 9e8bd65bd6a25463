// The one protocol between the extension host and the results webview: a discriminated union per
// direction. Pixels and maps travel as ArrayBuffer (structured clone), never as JSON number arrays.

/** Scores of the run, as in run.json (method.md §2). */
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

export interface WordView {
  word: string;
  /** Token positions in the 0-based padded sequence (start token = 0). */
  tokenIndices: number[];
  isObject: boolean;
  /** `<start>` / `<end>`: special tokens shown on request. */
  isSpecial: boolean;
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
  totalMs: number;
}

export type HostToWebview =
  | { type: 'runStarted'; runId: string; prompt: string; totalSteps: number }
  | { type: 'progress'; runId: string; step: number; totalSteps: number }
  | { type: 'result'; run: RunView }
  | { type: 'runFailed'; runId: string; message: string }
  | { type: 'runCancelled'; runId: string };

/** What the webview actually drew, reported back so tests (and the host) know the view is complete. */
export interface RenderedState {
  runId: string;
  imageShown: boolean;
  tokenMaps: string[];
}

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'rendered'; state: RenderedState }
  | { type: 'cancel'; runId: string }
  | { type: 'revealRunFolder'; runId: string };
