// The results view's state in one place: what is shown (one run or a before/after pair), the word, step,
// comparison and split the user chose, the run in flight, and what setState keeps across reloads.
import type { CompareView, MapFilter, ResultsWebviewState, RunView, ViewRef, WebviewToHost, WordView } from '../../src/shared/protocol';
import { packMessage } from '../../src/shared/packedMessage';
import type { VsCodeApi } from '../widgets/dom';
import type { OverlayMode } from './canvas';

/** A run with its picture decoded and its maps as typed arrays. */
export interface LoadedRun {
  run: RunView;
  image: HTMLImageElement;
  /** The image's blob: URL, revoked when the run is no longer shown. */
  imageUrl: string;
  maps: Float32Array;
  timeline?: Float32Array;
  /** Uint8 `[K, mapHeight, mapWidth]` object masks. */
  masks?: Uint8Array;
}

export interface Pair {
  before: LoadedRun;
  after: LoadedRun;
}

/** The threshold the run's masks and pair scores were recorded at. */
export const RECORDED_THRESHOLD = 0.4;

/** What the other modules call back into: the orchestrator's word selection and redraw. */
export interface ResultsActions {
  select(index: number): void;
  redraw(): void;
}

export class ResultsState {
  /** Kept with setState: restored on reopen and after a reload. */
  saved: ResultsWebviewState;
  mode: 'run' | 'compare' | undefined;
  single: LoadedRun | undefined;
  compare: { view: CompareView; pairs: Pair[] } | undefined;
  /** The selected word's index. */
  selected = 0;
  /** Step slider position: 0..steps-1 one step, steps = all steps (the aggregate maps). */
  position = 0;
  comparison = 0;
  /** Before/after split, 0..1 of the width. */
  reveal = 0.5;
  runningId: string | undefined;
  /** The folder of the run whose maps are being re-made with a filter (until its result or failure). */
  filtering: string | undefined;
  /** The filter the shown run's maps were made with. */
  shownFilter: MapFilter = {};
  /** Offscreen overlays of the before/after pair, reused while the reveal slider moves. */
  pairCanvases: { before: HTMLCanvasElement; after: HTMLCanvasElement } | undefined;
  actions: ResultsActions = { select: () => undefined, redraw: () => undefined };

  constructor(private readonly vscode: VsCodeApi<ResultsWebviewState>) {
    this.saved = vscode.getState() ?? {};
  }

  save(patch: Partial<ResultsWebviewState>): void {
    this.saved = { ...this.saved, ...patch };
    this.vscode.setState(this.saved);
  }

  post(message: WebviewToHost): void {
    this.vscode.postMessage(packMessage(message));
  }

  /** Restores the saved word/step when the view is the one the state was saved for. */
  restoreFor(ref: ViewRef, words: WordView[], steps: number): void {
    const same = this.saved.ref?.kind === ref.kind && this.saved.ref.folder === ref.folder;
    const byName = same && this.saved.selectedWord !== undefined ? words.findIndex((w) => w.word === this.saved.selectedWord) : -1;
    const firstObject = words.findIndex((w) => w.isObject);
    this.selected = byName >= 0 ? byName : Math.max(0, firstObject);
    this.position = same && this.saved.step !== undefined ? Math.min(this.saved.step, steps) : steps;
    this.reveal = same && this.saved.reveal !== undefined ? this.saved.reveal : 0.5;
    this.save({ ref, selectedWord: words[this.selected]?.word, step: this.position, reveal: this.reveal });
  }

  /** The overlay as chosen; 'image' once the selected word's chip was clicked again. */
  overlay(): { mode: OverlayMode; opacity: number } {
    return { mode: this.saved.overlay ?? 'heat', opacity: this.saved.opacity ?? 0.75 };
  }
}
