// The three jobs on a .prompt file: Generate (one prompt), Finetune (Separate-and-Enhance on the
// file's multi-object prompts, then before/after runs) and Compare (one prompt, base vs a finetuned
// key set). Each goes through the run queue (progress, status bar, cancel), logs to the output
// channel and ends in the results panel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findKeySets, type KeySetSummary } from '../engine/history';
import { openModelFolder } from '../engine/model/modelFolder';
import { CancelledError } from '../engine/pipeline/pipeline';
import type { PipelineCache } from '../engine/pipeline/pipelineCache';
import { effectiveSettings, parsePromptFile } from '../engine/promptFile';
import { comparePrompt } from '../engine/run/comparePrompt';
import { InputError } from '../engine/run/errors';
import { resolveModel } from '../engine/run/resolveModel';
import { runFinetune } from '../engine/run/runFinetune';
import { runPrompt } from '../engine/run/runPrompt';
import type { ProviderChoice } from '../engine/session/createSession';
import type { JobKind } from '../protocol/messages';
import type { ResultsPanel } from '../results/resultsPanel';
import { chooseKeySet, keySetsForModel, NO_KEY_SET_MESSAGE, samplingDetail, trainingDetail } from './jobLogic';
import type { JobContext, JobQueue } from './jobQueue';
import { loadCompareView, toRunView } from './runView';

export const LANGUAGE_ID = 'prompt-lens';

export interface CompletedRun {
  runId: string;
  runFolder: string;
}

export interface FinetuneOptions {
  steps?: number;
  lr?: number;
}

/** The model and execution provider of the last run, for the sidebar. */
export interface ModelInUse {
  id: string;
  provider: string;
  fallbacks: string[];
}

/** The runs folder of a .prompt file: `promptLens.runsFolder` resolved against the file's folder. */
export function runsDirFor(uri: vscode.Uri): string {
  const setting = vscode.workspace.getConfiguration('promptLens', uri).get<string>('runsFolder', 'runs') || 'runs';
  return path.resolve(path.dirname(uri.fsPath), setting);
}

export class RunController implements vscode.Disposable {
  private readonly folders = new Map<string, string>();
  private readonly modelChanged = new vscode.EventEmitter<ModelInUse>();
  /** Fires after each job with the model it ran and where it ran. */
  readonly onDidUseModel = this.modelChanged.event;
  private readonly finished = new vscode.EventEmitter<{ kind: JobKind; folder: string }>();
  /** Fires when a job wrote a folder (history and key sets change). */
  readonly onDidWrite = this.finished.event;
  model: ModelInUse | undefined;
  /** The last message shown to the user about a job that could not start (tests read it). */
  lastNotice: string | undefined;

  constructor(
    private readonly pipelines: PipelineCache,
    private readonly panel: ResultsPanel,
    private readonly queue: JobQueue,
    private readonly log: vscode.LogOutputChannel,
    private readonly builtinModelsDir: string,
  ) {}

  cancel(runId?: string): boolean {
    return this.queue.cancel(runId);
  }

  runFolder(runId: string): string | undefined {
    return this.folders.get(runId);
  }

  private settings(document: vscode.TextDocument): { file: string; runsDir: string; provider: ProviderChoice } {
    const config = vscode.workspace.getConfiguration('promptLens', document.uri);
    return {
      file: document.uri.fsPath,
      runsDir: runsDirFor(document.uri),
      provider: config.get<ProviderChoice>('executionProvider', 'cpu'),
    };
  }

  private checkDocument(document: vscode.TextDocument, what: string): boolean {
    if (document.languageId === LANGUAGE_ID && document.uri.scheme === 'file') return true;
    this.notice(`open a saved .prompt file and put the cursor on a prompt line to ${what}.`, 'error');
    return false;
  }

  private notice(message: string, level: 'error' | 'warning', action?: { title: string; run: () => void }): void {
    this.lastNotice = message;
    const show = level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(`Prompt Lens: ${message}`, ...(action ? [action.title] : [])).then((choice) => {
      if (choice && action) action.run();
    });
  }

  private usedModel(result: { model: { id: string }; provider: { name: string; fallbacks: string[] } }): void {
    this.model = { id: result.model.id, provider: result.provider.name, fallbacks: result.provider.fallbacks };
    for (const fallback of result.provider.fallbacks) this.log.warn(`Provider skipped: ${fallback}`);
    this.modelChanged.fire(this.model);
  }

  /** Runs a job through the queue with the panel's status and the shared error handling. */
  private async job<T>(kind: JobKind, label: string, work: (job: JobContext) => Promise<T>): Promise<T | undefined> {
    this.panel.show();
    let jobId = '';
    try {
      return await this.queue.run(kind, label, (job) => {
        jobId = job.id;
        this.panel.post({ type: 'runStarted', runId: job.id, prompt: label, totalSteps: 0, kind });
        return work(job);
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

  /** Runs the prompt on `line` (default: the cursor's) of a `.prompt` document. */
  async generate(document: vscode.TextDocument, line: number): Promise<CompletedRun | undefined> {
    if (!this.checkDocument(document, 'generate')) return undefined;
    const { file, runsDir, provider } = this.settings(document);
    const text = document.getText();
    const promptText = document.lineAt(Math.min(line, document.lineCount - 1)).text.trim();
    this.log.info(`Generate ${path.basename(file)}:${line + 1} → ${runsDir}`);
    return this.job('generate', promptText, async (job) => {
      const done = await runPrompt(
        { file, text, line, runsDir, builtinModelsDir: this.builtinModelsDir, provider, allowModelPaths: vscode.workspace.isTrusted },
        this.pipelines,
        {
          signal: job.signal,
          onStatus: (message) => job.status(message),
          onProgress: (p) => {
            if (job.update(p.step, p.totalSteps, `step ${p.step}/${p.totalSteps}`)) {
              this.panel.post({ type: 'progress', runId: job.id, step: p.step, totalSteps: p.totalSteps });
            }
          },
        },
      );
      this.folders.set(done.written.id, done.written.folder);
      this.log.info(`Done in ${Math.round(done.result.timings.totalMs)} ms on ${done.result.provider.name}: ${done.written.folder}`);
      this.usedModel(done.result);
      this.panel.showView({ kind: 'run', folder: done.written.folder }, { type: 'result', run: toRunView(done.result, done.written) });
      this.finished.fire({ kind: 'generate', folder: done.written.folder });
      return { runId: done.written.id, runFolder: done.written.folder };
    });
  }

  /**
   * Separate-and-Enhance finetune on the file's multi-object prompts (`promptLens.finetune.*`
   * settings unless `options` says otherwise), then the before/after view of the cursor's prompt.
   */
  async finetune(document: vscode.TextDocument, line: number, options: FinetuneOptions = {}): Promise<CompletedRun | undefined> {
    if (!this.checkDocument(document, 'finetune')) return undefined;
    const { file, runsDir, provider } = this.settings(document);
    const config = vscode.workspace.getConfiguration('promptLens', document.uri);
    const steps = options.steps ?? config.get<number>('finetune.steps', 200);
    const lr = options.lr ?? config.get<number>('finetune.learningRate', 1e-4);
    const text = document.getText();
    const parsed = parsePromptFile(text, file);
    const cursorPrompt = parsed.prompts.find((p) => p.line >= line)?.text;
    // Before/after runs: every prompt of the file, each seed, base and finetuned.
    const samplings = 2 * parsed.prompts.length * effectiveSettings(parsed.settings).seed.length;
    this.log.info(`Finetune ${path.basename(file)}: ${steps} steps, lr ${lr} → ${runsDir}`);
    return this.job('finetune', `${path.basename(file)} · ${steps} steps`, async (job) => {
      let sampled = 0;
      const done = await runFinetune(
        {
          file,
          text,
          builtinModelsDir: this.builtinModelsDir,
          provider,
          allowModelPaths: vscode.workspace.isTrusted,
          runsDir,
          overrides: { finetuneSteps: steps, lr },
        },
        this.pipelines,
        {
          signal: job.signal,
          onStatus: (message) => job.status(message),
          onTrainingStep: (s, total) => {
            const detail = trainingDetail(s.step, total, s.loss);
            this.log.debug(`finetune ${detail} · |g| ${s.gradNorm.toExponential(2)} · ${Math.round(s.ms)} ms`);
            if (job.update(s.step, total, detail)) this.panel.post({ type: 'progress', runId: job.id, step: s.step, totalSteps: total, message: detail });
          },
          onProgress: (p) => {
            if (p.step === 1) sampled++;
            const detail = samplingDetail(sampled, samplings, p.step, p.totalSteps);
            if (job.update(p.step, p.totalSteps, detail)) this.panel.post({ type: 'progress', runId: job.id, step: p.step, totalSteps: p.totalSteps, message: detail });
          },
        },
      );
      const { result } = done;
      const first = result.curve[0]?.loss;
      const last = result.curve[result.curve.length - 1]?.loss;
      this.log.info(
        `Finetune done: loss ${first?.toFixed(4) ?? '?'} → ${last?.toFixed(4) ?? '?'} in ${result.curve.length} steps, ${Math.round(result.trainMs)} ms; ${done.folder}`,
      );
      if (result.stopped) this.log.warn(`Training stopped early: ${result.stopped}`);
      if (result.comparisons[0]) this.usedModel(result.comparisons[0].after);
      this.folders.set(done.id, done.folder);
      const view = await loadCompareView(done.folder, cursorPrompt);
      this.panel.showView({ kind: 'compare', folder: done.folder, initial: view.initial }, { type: 'compare', view });
      this.finished.fire({ kind: 'finetune', folder: done.folder });
      return { runId: done.id, runFolder: done.folder };
    });
  }

  /**
   * The cursor's prompt with the base model's keys and with a finetuned key set, same seed. The key
   * set is `keySetFile`, or the newest made from the same base model (asked when there are several).
   */
  async compare(document: vscode.TextDocument, line: number, keySetFile?: string): Promise<CompletedRun | undefined> {
    if (!this.checkDocument(document, 'compare')) return undefined;
    const { file, runsDir, provider } = this.settings(document);
    const text = document.getText();
    let keySet: KeySetSummary | undefined;
    try {
      keySet = await this.pickKeySet(file, text, runsDir, keySetFile, document, line);
    } catch (error) {
      this.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    if (!keySet) return undefined;
    const promptText = parsePromptFile(text, file).prompts.find((p) => p.line >= line)?.text ?? '';
    this.log.info(`Compare ${path.basename(file)}:${line + 1} with ${keySet.id} → ${runsDir}`);
    const chosen = keySet;
    return this.job('compare', promptText, async (job) => {
      let phase = 0;
      const done = await comparePrompt(
        { file, text, line, keySetFile: chosen.file, runsDir, builtinModelsDir: this.builtinModelsDir, provider, allowModelPaths: vscode.workspace.isTrusted },
        this.pipelines,
        {
          signal: job.signal,
          onStatus: (message) => job.status(message),
          onProgress: (p) => {
            if (p.step === 1) phase++;
            const detail = `${phase <= 1 ? 'base' : 'finetuned'} · step ${p.step}/${p.totalSteps}`;
            if (job.update(p.step, p.totalSteps, detail)) this.panel.post({ type: 'progress', runId: job.id, step: p.step, totalSteps: p.totalSteps, message: detail });
          },
        },
      );
      this.usedModel(done.after);
      this.folders.set(done.id, done.folder);
      this.log.info(`Compare done: overlap ${done.before.scores?.overlap.toFixed(3) ?? '?'} → ${done.after.scores?.overlap.toFixed(3) ?? '?'}; ${done.folder}`);
      const view = await loadCompareView(done.folder);
      this.panel.showView({ kind: 'compare', folder: done.folder }, { type: 'compare', view });
      this.finished.fire({ kind: 'compare', folder: done.folder });
      return { runId: done.id, runFolder: done.folder };
    });
  }

  /** The base model's fingerprint for the file's `model:` (no ONNX session is created). */
  async modelOf(file: string, text: string): Promise<{ id: string; hash: string }> {
    const parsed = parsePromptFile(text, file);
    const root = resolveModel(effectiveSettings(parsed.settings).model, file, { builtinModelsDir: this.builtinModelsDir, allowPaths: vscode.workspace.isTrusted }, parsed.settings.model?.valueRange);
    const folder = await openModelFolder(root);
    return { id: folder.id, hash: folder.hash };
  }

  private async pickKeySet(
    file: string,
    text: string,
    runsDir: string,
    wanted: string | undefined,
    document: vscode.TextDocument,
    line: number,
  ): Promise<KeySetSummary | undefined> {
    const model = await this.modelOf(file, text);
    const matching = keySetsForModel(await findKeySets(runsDir), model.hash);
    const choice = chooseKeySet(matching, wanted ? (k) => path.resolve(k.file) === path.resolve(wanted) : undefined);
    if (choice.kind === 'none') {
      this.notice(`${NO_KEY_SET_MESSAGE.replace('this model', model.id)} (looked in ${runsDir})`, 'warning', {
        title: 'Run Finetune',
        run: () => void this.finetune(document, line),
      });
      return undefined;
    }
    if (choice.kind === 'one') return choice.keySet;
    const picked = await vscode.window.showQuickPick(
      choice.keySets.map((k) => ({
        label: k.id,
        description: `${k.steps} steps · lr ${k.lr}${k.finalLoss !== undefined ? ` · loss ${k.finalLoss.toFixed(4)}` : ''}`,
        detail: k.trainedPrompts.join(' · '),
        keySet: k,
      })),
      { title: 'Prompt Lens: Compare with which finetuned key set?', placeHolder: `Key sets made from ${model.id}, newest first` },
    );
    return picked?.keySet;
  }

  dispose(): void {
    this.modelChanged.dispose();
    this.finished.dispose();
  }
}
