// Runs a Generate, Finetune or Compare job through the queue: the results panel hears it start, make
// progress, fail or be cancelled; failures are logged and shown with the shared wording. Progress from
// the engine reaches the queue (notification, status bar, sidebar) and the panel through `progress` only.
import * as vscode from 'vscode';
import { CancelledError } from '../engine/pipeline/pipeline';
import { InputError } from '../engine/files/errors';
import type { HostToWebview, JobKind } from '../shared/protocol';
import type { JobContext, JobQueue } from './jobQueue';

/** Where a job's life is shown (the results panel); declared here so that jobs sit below the views. */
export interface JobDisplay {
  show(): void;
  post(message: HostToWebview): void;
}

export interface RunningJob {
  id: string;
  /** What every engine job takes: cancellation and status lines ("Loading tiny-shapes…"). */
  engine: { signal: AbortSignal; onStatus(message: string): void };
  /**
   * Step `step` of `totalSteps`, throttled. `detail` is the phase the queue and the panel show; without it the
   * queue shows "step N/M" and the panel its own step count.
   */
  progress(step: number, totalSteps: number, detail?: string): void;
}

interface NoticeAction {
  title: string;
  run(): void;
}

export class JobRunner {
  /** The last message shown about a job that could not start or failed (tests read it). */
  lastNotice: string | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly panel: JobDisplay,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Cancels the job `id`, or the running one. */
  cancel(id?: string): boolean {
    return this.queue.cancel(id);
  }

  /** Runs `work` as a queued job; resolves with its result, or undefined when it failed or was cancelled. */
  async run<T>(kind: JobKind, label: string, work: (job: RunningJob) => Promise<T>): Promise<T | undefined> {
    this.panel.show();
    let jobId = '';
    try {
      return await this.queue.run(kind, label, (job) => {
        jobId = job.id;
        this.panel.post({ type: 'runStarted', runId: job.id, prompt: label, totalSteps: 0, kind });
        return work(this.running(job));
      });
    } catch (error) {
      if (error instanceof CancelledError) {
        this.log.info(`${kind} cancelled; nothing was written.`);
        if (jobId) this.panel.post({ type: 'runCancelled', runId: jobId });
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof InputError) this.log.warn(message);
      else this.log.error(error instanceof Error ? (error.stack ?? message) : message);
      if (jobId) this.panel.post({ type: 'runFailed', runId: jobId, message });
      this.lastNotice = message;
      void vscode.window.showErrorMessage(`Prompt Lens: ${message}`, 'Show Log').then((choice) => {
        if (choice) this.log.show(true);
      });
      return undefined;
    }
  }

  /** A message about a job that cannot start (or a view that cannot be shown), with an optional action. */
  notice(message: string, level: 'error' | 'warning', action?: NoticeAction): void {
    this.lastNotice = message;
    const show = level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(`Prompt Lens: ${message}`, ...(action ? [action.title] : [])).then((choice) => {
      if (choice && action) action.run();
    });
  }

  private running(job: JobContext): RunningJob {
    return {
      id: job.id,
      engine: { signal: job.signal, onStatus: (message) => job.status(message) },
      progress: (step, totalSteps, detail) => {
        if (!job.update(step, totalSteps, detail ?? `step ${step}/${totalSteps}`)) return;
        this.panel.post({ type: 'progress', runId: job.id, step, totalSteps, ...(detail !== undefined ? { message: detail } : {}) });
      },
    };
  }
}
