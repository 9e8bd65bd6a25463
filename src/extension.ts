// Extension entry: wires the engine (shared with the CLI) to commands, the results panel and the log.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PipelineCache } from './engine/pipeline/pipelineCache';
import { registerLanguageFeatures } from './language';
import type { RenderedState } from './protocol/messages';
import { ResultsPanel } from './results/resultsPanel';
import { LANGUAGE_ID, RunController } from './run/runController';

/** Returned from activate() so integration tests can see what the webview drew. */
export interface PromptLensTestApi {
  /** Resolves with what the webview drew for the most recent completed run. */
  whenResultsRendered(): Promise<RenderedState & { runFolder: string }>;
}

export function activate(context: vscode.ExtensionContext): PromptLensTestApi {
  const log = vscode.window.createOutputChannel('Prompt Lens', { log: true });
  const builtinModelsDir = path.join(context.extensionPath, 'models');
  registerLanguageFeatures(context, { builtinModelsDir, log });
  const pipelines = new PipelineCache();
  // The panel's callbacks only run after activation, once runController exists.
  const panel = new ResultsPanel(context.extensionUri, {
    onCancel: (runId) => runController.cancel(runId),
    onRevealRunFolder: (runId) => {
      const folder = runController.runFolder(runId);
      if (folder) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(folder));
    },
  });
  const runController = new RunController(pipelines, panel, log, builtinModelsDir);

  let lastRunId: string | undefined;
  const rendered = new Map<string, RenderedState>();
  const waiters: (() => void)[] = [];
  // Woken both when a run completes and when the webview reports, whichever comes last.
  const wakeWaiters = (): void => waiters.splice(0).forEach((wake) => wake());
  context.subscriptions.push(
    log,
    panel,
    panel.onDidRender((state) => {
      rendered.set(state.runId, state);
      wakeWaiters();
    }),
    vscode.commands.registerCommand('promptLens.generate', async (uri?: vscode.Uri, line?: number) => {
      const editor = vscode.window.activeTextEditor;
      const document = uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
      if (!document || document.languageId !== LANGUAGE_ID) {
        void vscode.window.showErrorMessage('Prompt Lens: open a .prompt file to generate from it.');
        return undefined;
      }
      const target = line ?? (editor?.document === document ? editor.selection.active.line : 0);
      const done = await runController.generate(document, target);
      if (done) {
        lastRunId = done.runId;
        wakeWaiters();
      }
      return done;
    }),
  );

  return {
    whenResultsRendered: async () => {
      for (;;) {
        const state = lastRunId ? rendered.get(lastRunId) : undefined;
        if (state && lastRunId) return { ...state, runFolder: runController.runFolder(lastRunId) ?? '' };
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
  };
}

