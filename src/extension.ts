// Extension entry: wires the engine (shared with the CLI) to commands, the run queue and status bar,
// the results panel, the sidebar run panel and the log.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runsFolderOf } from './config';
import { PipelineCache } from './engine/pipeline/pipelineCache';
import { COMMANDS, LANGUAGE_ID, VIEWS } from './ids';
import { registerLanguageFeatures } from './language';
import { registerModelCommands } from './models/addModel';
import type { JobView, MapFilter, RenderedState } from './protocol/messages';
import { ResultsPanel } from './results/resultsPanel';
import { JobQueue } from './run/jobQueue';
import { RunController, type CompletedRun, type FinetuneOptions } from './run/runController';
import { mayRestore } from './run/workspaceAccess';
import { SidebarView, type SidebarRendered } from './sidebar/sidebarView';

/** Returned from activate() so integration tests can see what the webviews drew. */
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

export function activate(context: vscode.ExtensionContext): PromptLensTestApi {
  const log = vscode.window.createOutputChannel('Prompt Lens', { log: true });
  const builtinModelsDir = path.join(context.extensionPath, 'models');
  registerLanguageFeatures(context, { builtinModelsDir, log });
  // The sidebar shows the model and provider as soon as a pipeline loads, not after the first run.
  // A model folder that is not writable (a read-only install) gets its instrumented copy in the extension's storage.
  const cache = { userDir: context.globalStorageUri.fsPath };
  const pipelines = new PipelineCache({ onDidLoad: (info) => runController.pipelineLoaded(info), cache });
  const queue = new JobQueue();
  // The panel's callbacks only run after activation, once runController exists.
  const panel = new ResultsPanel(context.extensionUri, {
    onCancel: (runId) => runController.cancel(runId),
    onFilterMaps: (folder, filter) => void runController.filterMaps(folder, filter).then(completed),
    onOpenSeedRun: (folder) => void runController.openSeedRun(folder),
    // The workspace, the runs folders of open .prompt files, and what this window wrote or showed.
    mayRestore: (folder): Promise<boolean> => {
      const promptRunsDirs = vscode.workspace.textDocuments.filter((d) => d.languageId === LANGUAGE_ID && d.uri.scheme === 'file').map((d) => runsFolderOf(d.uri));
      return mayRestore(folder, runController.access(), [...runController.knownFolders(), ...promptRunsDirs]);
    },
    log,
  });
  const runController = new RunController(pipelines, panel, queue, log, builtinModelsDir);
  const sidebar = new SidebarView(context.extensionUri, runController, queue, panel);
  registerModelCommands(context, log, cache);

  let lastRunId: string | undefined;
  const rendered = new Map<string, RenderedState>();
  const waiters: (() => void)[] = [];
  // Woken both when a job completes and when the webview reports, whichever comes last.
  const wakeWaiters = (): void => waiters.splice(0).forEach((wake) => wake());
  const completed = (done: CompletedRun | undefined): CompletedRun | undefined => {
    if (done) {
      lastRunId = done.runId;
      wakeWaiters();
    }
    return done;
  };

  /** The .prompt document and line a command is about: its arguments (code lens) or the active editor's cursor. */
  const target = async (uri: unknown, line: unknown, what: string): Promise<{ document: vscode.TextDocument; line: number } | undefined> => {
    const editor = vscode.window.activeTextEditor;
    const document = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
    if (!document || document.languageId !== LANGUAGE_ID) {
      void vscode.window.showErrorMessage(`Prompt Lens: open a .prompt file to ${what}.`);
      return undefined;
    }
    const cursor = editor?.document === document ? editor.selection.active.line : 0;
    return { document, line: typeof line === 'number' ? line : cursor };
  };

  context.subscriptions.push(
    log,
    queue,
    panel,
    runController,
    sidebar,
    vscode.window.registerWebviewPanelSerializer(VIEWS.results, panel.serializer()),
    vscode.window.registerWebviewViewProvider(VIEWS.runPanel, sidebar),
    panel.onDidRender((state) => {
      rendered.set(state.runId, state);
      wakeWaiters();
    }),
    vscode.commands.registerCommand(COMMANDS.generate, async (uri?: vscode.Uri, line?: number) => {
      const at = await target(uri, line, 'generate from it');
      return at && completed(await runController.generate(at.document, at.line));
    }),
    vscode.commands.registerCommand(COMMANDS.finetune, async (uri?: vscode.Uri, line?: number, options?: FinetuneOptions) => {
      const at = await target(uri, line, 'finetune on its prompts');
      const checked: FinetuneOptions = {
        ...(typeof options?.steps === 'number' && options.steps > 0 ? { steps: Math.round(options.steps) } : {}),
        ...(typeof options?.lr === 'number' && options.lr > 0 ? { lr: options.lr } : {}),
      };
      return at && completed(await runController.finetune(at.document, at.line, checked));
    }),
    vscode.commands.registerCommand(COMMANDS.compare, async (uri?: vscode.Uri, line?: number, keySetFile?: string) => {
      const at = await target(uri, line, 'compare its prompt before and after finetuning');
      return at && completed(await runController.compare(at.document, at.line, typeof keySetFile === 'string' ? keySetFile : undefined));
    }),
    vscode.commands.registerCommand(COMMANDS.cancel, (jobId?: string) => runController.cancel(typeof jobId === 'string' ? jobId : undefined)),
    vscode.commands.registerCommand(COMMANDS.showResults, () => panel.reopen()),
    vscode.commands.registerCommand(COMMANDS.exportView, () => panel.requestExport()),
    vscode.commands.registerCommand(COMMANDS.showLog, () => log.show(true)),
    vscode.commands.registerCommand(COMMANDS.refreshRuns, () => sidebar.schedule(0)),
  );

  return {
    whenResultsRendered: async () => {
      for (;;) {
        const state = lastRunId ? rendered.get(lastRunId) : undefined;
        if (state && lastRunId) return { ...state, runFolder: runController.runFolder(lastRunId) ?? '' };
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
    lastNotice: () => runController.lastNotice,
    exportViewTo: (file) => {
      panel.exportTarget = file;
      return panel.requestExport();
    },
    filterMaps: async (folder, filter) => completed(await runController.filterMaps(folder, filter)),
    openSeedRun: (folder) => runController.openSeedRun(folder),
  };
}
