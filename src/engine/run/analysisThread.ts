// The attention analyses of one sampled batch, run on an analysis thread (analysisWorker.ts) while the next UNet
// step runs here: onnxruntime-node runs the UNet on the main thread, so analysis done there adds to every step,
// while on its own thread it overlaps the next one. Where no thread can start, the analyses run here.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AttentionCapture } from '../pipeline/pipeline';
import { AttentionAnalysis, ScoreRecipeError, SelectionError, type AnalysisInput, type AnalysisOutput } from './attentionAnalysis';

/** A capture without its probabilities, which travel packed into one buffer per item and step. */
export type CaptureShape = Omit<AttentionCapture, 'probs'> & { length: number };

/** What the main thread sends the analysis thread. */
export type AnalysisJob =
  | { kind: 'start'; batch: number; inputs: AnalysisInput[] }
  | { kind: 'step'; batch: number; item: number; shapes: CaptureShape[]; probs: Float32Array }
  | { kind: 'finish'; batch: number }
  | { kind: 'discard'; batch: number };

export interface ThreadError {
  name: string;
  message: string;
}

/** What comes back: a batch's outputs, or the first error of its analyses (at once, not only at finish). */
export type AnalysisReply = { batch: number; outputs: AnalysisOutput[] } | { batch: number; error: ThreadError };

/** `captures` packed: their shapes and every probability in one buffer, in capture order. */
export function packCaptures(captures: readonly AttentionCapture[]): { shapes: CaptureShape[]; probs: Float32Array<ArrayBuffer> } {
  const probs = new Float32Array(captures.reduce((n, c) => n + c.probs.length, 0));
  let at = 0;
  const shapes = captures.map(({ probs: layerProbs, ...shape }) => {
    probs.set(layerProbs, at);
    at += layerProbs.length;
    return { ...shape, length: layerProbs.length };
  });
  return { shapes, probs };
}

/** The captures `packCaptures` packed, as views of its buffer. */
export function unpackCaptures(shapes: readonly CaptureShape[], probs: Float32Array): AttentionCapture[] {
  let at = 0;
  return shapes.map(({ length, ...shape }) => {
    const capture = { ...shape, probs: probs.subarray(at, at + length) };
    at += length;
    return capture;
  });
}

/** An analysis error as the main thread would have thrown it, kept by class where callers tell them apart. */
export function errorFromThread({ name, message }: ThreadError): Error {
  if (name === 'SelectionError') return new SelectionError(message);
  if (name === 'ScoreRecipeError') return new ScoreRecipeError(message);
  const error = new Error(message);
  error.name = name;
  return error;
}

export function threadError(error: unknown): ThreadError {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

/** The analyses of one batch's items: feed `onAttention` each step, then `finish` (or `discard` on failure). */
export interface BatchAnalysis {
  /** The pipeline's per-item hook; throws an error the analysis reported (on the thread, a step or two later). */
  readonly onAttention: (item: number, captures: AttentionCapture[]) => void;
  finish(): Promise<AnalysisOutput[]>;
  discard(): void;
}

export function startBatchAnalysis(inputs: AnalysisInput[]): BatchAnalysis {
  const thread = analysisThread();
  if (thread) {
    try {
      return new ThreadedAnalysis(thread, inputs);
    } catch {
      // Inputs the structured clone refuses are analysed here, where nothing needs copying.
    }
  }
  return new LocalAnalysis(inputs);
}

class LocalAnalysis implements BatchAnalysis {
  private readonly analyses: AttentionAnalysis[];

  constructor(inputs: AnalysisInput[]) {
    this.analyses = inputs.map((input) => new AttentionAnalysis(input));
  }

  readonly onAttention = (item: number, captures: AttentionCapture[]): void => this.analyses[item].onAttention(captures);

  finish(): Promise<AnalysisOutput[]> {
    try {
      return Promise.resolve(this.analyses.map((a) => a.finish()));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  discard(): void {}
}

class ThreadedAnalysis implements BatchAnalysis {
  private readonly batch = nextBatch++;
  private readonly outcome: Promise<AnalysisOutput[]>;
  private failed?: Error;

  constructor(
    private readonly thread: AnalysisThread,
    inputs: AnalysisInput[],
  ) {
    this.outcome = new Promise<AnalysisOutput[]>((resolve, reject) => {
      thread.batches.set(this.batch, {
        resolve,
        reject: (error) => {
          this.failed ??= error;
          reject(error);
        },
      });
    });
    // Seen through `failed` or `finish`; unobserved otherwise (a batch the pipeline abandoned).
    this.outcome.catch(() => undefined);
    try {
      thread.worker.postMessage({ kind: 'start', batch: this.batch, inputs } satisfies AnalysisJob);
    } catch (error) {
      thread.batches.delete(this.batch);
      throw error;
    }
    thread.worker.ref();
  }

  readonly onAttention = (item: number, captures: AttentionCapture[]): void => {
    if (this.failed) throw this.failed;
    const { shapes, probs } = packCaptures(captures);
    this.thread.worker.postMessage({ kind: 'step', batch: this.batch, item, shapes, probs } satisfies AnalysisJob, [probs.buffer]);
  };

  finish(): Promise<AnalysisOutput[]> {
    this.thread.worker.postMessage({ kind: 'finish', batch: this.batch } satisfies AnalysisJob);
    return this.outcome;
  }

  discard(): void {
    if (this.thread.batches.delete(this.batch) && this.thread.batches.size === 0) this.thread.worker.unref();
    // The thread keeps a failed batch until told: its error came back before the pipeline stopped.
    this.thread.worker.postMessage({ kind: 'discard', batch: this.batch } satisfies AnalysisJob);
  }
}

interface PendingBatch {
  resolve(outputs: AnalysisOutput[]): void;
  reject(error: Error): void;
}

interface AnalysisThread {
  worker: Worker;
  batches: Map<number, PendingBatch>;
}

/** The worker's script: beside this module when compiled by tsc, beside the bundle in dist/. */
const WORKER_FILE = path.join(__dirname, 'analysisWorker.js');

let shared: AnalysisThread | undefined;
let threadFailed = false;
let nextBatch = 0;

/** The analysis thread, started on first use; none where it cannot run (then and after it died). */
function analysisThread(): AnalysisThread | undefined {
  if (shared || threadFailed) return shared;
  if (!existsSync(WORKER_FILE)) {
    threadFailed = true;
    return undefined;
  }
  let worker: Worker;
  try {
    worker = new Worker(WORKER_FILE);
  } catch {
    threadFailed = true;
    return undefined;
  }
  worker.unref(); // an idle thread never keeps the CLI or a test alive
  const thread: AnalysisThread = { worker, batches: new Map() };
  worker.on('message', (reply: AnalysisReply) => {
    const pending = thread.batches.get(reply.batch);
    if (!pending) return;
    thread.batches.delete(reply.batch);
    if (thread.batches.size === 0) worker.unref();
    if ('error' in reply) pending.reject(errorFromThread(reply.error));
    else pending.resolve(reply.outputs);
  });
  const fail = (why: string): void => {
    threadFailed = true;
    shared = undefined;
    // Their captures went with the thread: these batches cannot be analysed again, later ones run here.
    for (const pending of thread.batches.values()) pending.reject(new Error(`the attention analysis thread stopped (${why}); run again`));
    thread.batches.clear();
  };
  worker.on('error', (error) => fail(error.message));
  worker.on('exit', (code) => fail(`exit code ${code}`));
  shared = thread;
  return thread;
}
