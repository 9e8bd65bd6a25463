// What activate() returns to the integration suite (test/suite), and only when VS Code runs the extension's
// tests (ExtensionMode.Test): what the webviews drew, the queue, the last notice, and the results view's
// requests made directly.
import * as vscode from 'vscode';
import type { JobQueue } from './run/jobQueue';
import type { CompletedRun, JobResults } from './run/jobResults';
import type { JobRunner } from './run/jobRunner';
import type { JobView, MapFilter, RenderedState } from './shared/protocol';
import type { MapFilterSession } from './commands/filterMaps';
import type { ResultsPanel } from './results/resultsPanel';
import type { SidebarRendered, SidebarView } from './sidebar/sidebarView';

export interface PromptLensTestApi {
  /** Resolves with what the webview drew for the most recent completed job (run, finetune or compare). */
  whenResultsRendered(): Promise<RenderedState & { runFolder: string }>;
  /** Resolves with the next view the results webview draws (e.g. after reopening the panel). */
  nextResultsRender(): Promise<RenderedState>;
  /** Resolves once the sidebar has drawn a state that `accept` accepts. */
  whenSidebarRendered(accept?: (state: SidebarRendered) => boolean): Promise<SidebarRendered>;
  /** The status bar item's text while a job runs. */
  statusText(): string | undefined;
  jobs(): JobView[];
  /** The last message shown about a job that could not start or failed. */
  lastNotice(): string | undefined;
  /** Exports the results view as PNG to `file` (refused when it exists); resolves with the saved path. */
  exportViewTo(file: string): Promise<string | undefined>;
  /** Re-runs the run in `folder` with its display maps filtered, as the results view's filters do. */
  filterMaps(folder: string, filter: MapFilter): Promise<{ runId: string; runFolder: string } | undefined>;
  /** Shows another seed's run of the newest Generate, as the results view's seed list does. */
  openSeedRun(folder: string): Promise<void>;
}

export interface TestedParts {
  panel: ResultsPanel;
  sidebar: SidebarView;
  queue: JobQueue;
  runner: JobRunner;
  results: JobResults;
  mapFilter: MapFilterSession;
}

/** The test API; its listeners go to `subscriptions`. */
export function createTestApi({ panel, sidebar, queue, runner, results, mapFilter }: TestedParts, subscriptions: vscode.Disposable[]): PromptLensTestApi {
  let lastRun: CompletedRun | undefined;
  const rendered = new Map<string, RenderedState>();
  const waiters: (() => void)[] = [];
  // Woken both when a job completes and when the webview reports, whichever comes last.
  const wakeWaiters = (): void => waiters.splice(0).forEach((wake) => wake());
  subscriptions.push(
    results.onDidComplete((run) => {
      lastRun = run;
      wakeWaiters();
    }),
    panel.onDidRender((state) => {
      rendered.set(state.runId, state);
      wakeWaiters();
    }),
  );

  return {
    whenResultsRendered: async () => {
      for (;;) {
        const state = lastRun && rendered.get(lastRun.runId);
        if (state && lastRun) return { ...state, runFolder: lastRun.runFolder };
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
    nextResultsRender: () =>
      new Promise<RenderedState>((resolve) => {
        const listener = panel.onDidRender((state) => {
          listener.dispose();
          resolve(state);
        });
      }),
    whenSidebarRendered: (accept = () => true) =>
      new Promise<SidebarRendered>((resolve) => {
        if (sidebar.lastRendered && accept(sidebar.lastRendered)) {
          resolve(sidebar.lastRendered);
          return;
        }
        const listener = sidebar.onDidRender((state) => {
          if (!accept(state)) return;
          listener.dispose();
          resolve(state);
        });
        sidebar.schedule(0);
      }),
    statusText: () => queue.statusText(),
    jobs: () => queue.views(),
    lastNotice: () => runner.lastNotice,
    exportViewTo: (file) => {
      panel.exportTarget = file;
      return panel.requestExport();
    },
    filterMaps: (folder, filter) => mapFilter.filterMaps(folder, filter),
    openSeedRun: (folder) => mapFilter.openSeedRun(folder),
  };
}
