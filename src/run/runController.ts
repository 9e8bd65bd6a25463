// Runs the prompt under the cursor: progress notification with cancel, log lines, results panel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PipelineCache } from '../engine/pipeline/pipelineCache';
import { CancelledError } from '../engine/pipeline/pipeline';
import { InputError } from '../engine/run/errors';
import { runPrompt } from '../engine/run/runPrompt';
import type { ProviderChoice } from '../engine/session/createSession';
import type { ResultsPanel } from '../results/resultsPanel';
import { toRunView } from './runView';

export const LANGUAGE_ID = 'prompt-lens';

export interface CompletedRun {
  runId: string;
  runFolder: string;
}

export class RunController {
  private readonly active = new Map<string, AbortController>();
  private readonly folders = new Map<string, string>();
  private counter = 0;

  constructor(
    private readonly pipelines: PipelineCache,
    private readonly panel: ResultsPanel,
    private readonly log: vscode.LogOutputChannel,
    private readonly builtinModelsDir: string,
  ) {}

  cancel(runId: string): void {
    this.active.get(runId)?.abort();
  }

  runFolder(runId: string): string | undefined {
    return this.folders.get(runId);
  }

  /** Runs the prompt on `line` (default: the cursor's) of a `.prompt` document. */
  async generate(document: vscode.TextDocument, line: number): Promise<CompletedRun | undefined> {
    if (document.languageId !== LANGUAGE_ID) {
      void vscode.window.showErrorMessage('Prompt Lens: open a .prompt file and put the cursor on a prompt line.');
      return undefined;
    }
    const runId = `run-${++this.counter}`;
    const abort = new AbortController();
    this.active.set(runId, abort);
    const config = vscode.workspace.getConfiguration('promptLens', document.uri);
    const file = document.uri.fsPath;
    const runsSetting = config.get<string>('runsFolder', 'runs');
    const runsDir = path.resolve(path.dirname(file), runsSetting);
    const provider = config.get<ProviderChoice>('executionProvider', 'cpu');
    const promptText = document.lineAt(line).text.trim();
    this.panel.show();
    this.panel.post({ type: 'runStarted', runId, prompt: promptText, totalSteps: 0 });
    this.log.info(`Generate ${path.basename(file)}:${line + 1} → ${runsDir}`);
    try {
      const done = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Prompt Lens', cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          return runPrompt(
            {
              file,
              text: document.getText(),
              line,
              runsDir,
              builtinModelsDir: this.builtinModelsDir,
              provider,
              allowModelPaths: vscode.workspace.isTrusted,
            },
            this.pipelines,
            {
              signal: abort.signal,
              onStatus: (message) => progress.report({ message }),
              onProgress: (p) => {
                const fraction = (100 * p.step) / p.totalSteps;
                progress.report({ message: `step ${p.step}/${p.totalSteps}`, increment: fraction - reported });
                reported = fraction;
                this.panel.post({ type: 'progress', runId, step: p.step, totalSteps: p.totalSteps });
              },
            },
          );
        },
      );
      this.folders.set(done.written.id, done.written.folder);
      this.log.info(
        `Done in ${Math.round(done.result.timings.totalMs)} ms on ${done.result.provider.name}: ${done.written.folder}`,
      );
      for (const fallback of done.result.provider.fallbacks) this.log.warn(`Provider skipped: ${fallback}`);
      this.panel.post({ type: 'result', run: toRunView(done.result, done.written) });
      return { runId: done.written.id, runFolder: done.written.folder };
    } catch (error) {
      if (error instanceof CancelledError) {
        this.log.info('Run cancelled; nothing was written.');
        this.panel.post({ type: 'runCancelled', runId });
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof InputError) this.log.warn(message);
      else this.log.error(error instanceof Error ? (error.stack ?? message) : message);
      this.panel.post({ type: 'runFailed', runId, message });
      void vscode.window.showErrorMessage(`Prompt Lens: ${message}`, 'Show Log').then((choice) => {
        if (choice) this.log.show(true);
      });
      return undefined;
    } finally {
      this.active.delete(runId);
    }
  }
}
