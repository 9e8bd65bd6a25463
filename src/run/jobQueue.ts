// The run queue: Generate, Finetune and Compare jobs run one at a time (they share the loaded
// pipelines and the CPU), each with a cancellable progress notification; a spinning status-bar item
// shows the running job's step and cancels it when clicked; the sidebar lists the queue.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import { CancelledError } from '../engine/pipeline/pipeline';
import { COMMANDS, CONTEXT_KEYS } from '../ids';
import type { JobKind, JobView } from '../shared/protocol';
import { KIND_TITLE, progressDue, statusBarText, statusBarTooltip } from './jobLogic';

export interface JobContext {
  id: string;
  signal: AbortSignal;
  /**
   * Progress of the job: shown in the notification, the status bar and the sidebar. Returns whether
   * this update was sent (updates are throttled); callers send their own views only then.
   */
  update(step: number, totalSteps: number, detail: string): boolean;
  /** A status line without a step count ("Loading tiny-shapes…"). */
  status(detail: string): void;
}

interface Job extends JobView {
  abort: AbortController;
}

export class JobQueue extends Disposable {
  private readonly jobs: Job[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private running = false;
  private readonly item: vscode.StatusBarItem;
  private readonly changed = this._register(new vscode.EventEmitter<JobView[]>());
  /** Fires whenever a job is queued, starts, makes progress or ends. */
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('promptLens.status', vscode.StatusBarAlignment.Left, 10));
    this.item.name = 'Prompt Lens';
    this.item.command = COMMANDS.cancel;
  }

  /** The queue as the sidebar shows it: the running job first. */
  views(): JobView[] {
    return this.jobs.map(({ id, kind, label, state, step, totalSteps, detail }) => ({ id, kind, label, state, step, totalSteps, detail }));
  }

  /** The status bar item's text, or undefined when nothing runs (tests read it). */
  statusText(): string | undefined {
    return this.item.text && this.jobs.some((j) => j.state === 'running') ? this.item.text : undefined;
  }

  /** Cancels the job `id`, or the running one. A queued job is dropped before it starts. */
  cancel(id?: string): boolean {
    const job = id === undefined ? this.jobs.find((j) => j.state === 'running') : this.jobs.find((j) => j.id === id);
    if (!job) return false;
    job.abort.abort();
    if (job.state === 'queued') this.remove(job);
    return true;
  }

  /** Queues `work`; resolves with its result once it ran (rejects with CancelledError when cancelled first). */
  run<T>(kind: JobKind, label: string, work: (job: JobContext) => Promise<T>, id = `${kind}-${++this.counter}`): Promise<T> {
    const job: Job = { id, kind, label, state: 'queued', step: 0, totalSteps: 0, detail: 'queued', abort: new AbortController() };
    this.jobs.push(job);
    this.refresh();
    const result = this.tail.then(() => this.start(job, work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async start<T>(job: Job, work: (job: JobContext) => Promise<T>): Promise<T> {
    if (job.abort.signal.aborted) throw new CancelledError();
    job.state = 'running';
    job.detail = 'starting…';
    this.refresh();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Prompt Lens ${KIND_TITLE[job.kind]}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => job.abort.abort());
          let reported = 0;
          let lastSent: number | undefined;
          const context: JobContext = {
            id: job.id,
            signal: job.abort.signal,
            update: (step, totalSteps, detail) => {
              job.step = step;
              job.totalSteps = totalSteps;
              job.detail = detail;
              const now = Date.now();
              if (!progressDue(step, totalSteps, now, lastSent)) return false;
              lastSent = now;
              const fraction = totalSteps > 0 ? (100 * step) / totalSteps : 0;
              // Phases restart their step count: the bar only moves forward within one phase.
              progress.report({ message: detail, ...(fraction > reported ? { increment: fraction - reported } : {}) });
              reported = fraction;
              this.refresh();
              return true;
            },
            status: (detail) => {
              job.detail = detail;
              progress.report({ message: detail });
              this.refresh();
            },
          };
          return work(context);
        },
      );
    } finally {
      this.remove(job);
    }
  }

  private remove(job: Job): void {
    const at = this.jobs.indexOf(job);
    if (at >= 0) this.jobs.splice(at, 1);
    this.refresh();
  }

  private refresh(): void {
    const views = this.views();
    const text = statusBarText(views);
    if (text) {
      this.item.text = text;
      this.item.tooltip = statusBarTooltip(views);
      this.item.accessibilityInformation = { label: `${text.replace(/\$\([^)]*\)\s*/, '')}; activate to cancel` };
      this.item.show();
    } else {
      this.item.text = '';
      this.item.hide();
    }
    if (this.running !== (text !== undefined)) {
      this.running = text !== undefined;
      void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.running, this.running);
    }
    this.changed.fire(views);
  }

  override dispose(): void {
    for (const job of this.jobs) job.abort.abort();
    super.dispose();
  }
}
