// The three jobs on a .prompt file: Generate (one prompt), Finetune (Separate-and-Enhance on the
// file's multi-object prompts, then before/after runs) and Compare (one prompt, base vs a finetuned
// key set). Each goes through the run queue (progress, status bar, cancel), logs to the output
// channel and ends in the results panel.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findKeySets, type KeySetSummary } from '../engine/history';
import { openModelFolder } from '../engine/model/modelFolder';
import { CancelledError } from '../engine/pipeline/pipeline';
import type { PipelineCache } from '../engine/pipeline/pipelineCache';
import { effectiveSettings, parsePromptFile, type PromptSettings } from '../engine/promptFile';
import type { LoadedPipelineInfo } from '../engine/pipeline/pipelineCache';
import { comparePrompt } from '../engine/run/comparePrompt';
import { InputError } from '../engine/run/errors';
import { resolveFileSettings, resolveModel, type ModelLookup, type ResolvedFileSettings } from '../engine/run/resolveModel';
import { runFinetune } from '../engine/run/runFinetune';
import type { AttentionAnalysis } from '../engine/run/attentionAnalysis';
import { refilterRun, runPromptSeeds } from '../engine/run/runPrompt';
import type { WrittenRun } from '../engine/run/runRecord';
import type { RunResult } from '../engine/run/runResult';
import { seedRanking, seedSummary } from '../engine/run/seedSummary';
import type { ProviderChoice } from '../engine/session/createSession';
import { userModels } from '../models/addModel';
import type { JobKind, MapFilter, RunView, SeedRun } from '../protocol/messages';
import type { ResultsPanel } from '../results/resultsPanel';
import { userFinetuneSettings } from './finetuneConfig';
import { chooseKeySet, describeFilter, keySetsForModel, selectionOf, NO_KEY_SET_MESSAGE, samplingDetail, trainingDetail } from './jobLogic';
import type { JobContext, JobQueue } from './jobQueue';
import { loadCompareView, loadRunView, toRunView } from './runView';

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
  /** The runs of the newest Generate with several seeds: the results view switches between them. */
  private seedRuns: SeedRun[] = [];
  /** The newest Generate's record and analysis: its maps can be filtered by layer or head without sampling again. */
  private lastRun: { folder: string; result: RunResult; analysis: AttentionAnalysis; runsDir: string } | undefined;

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

  private settings(document: { uri: vscode.Uri }): { file: string; runsDir: string; provider: ProviderChoice; models: Record<string, string> } {
    const config = vscode.workspace.getConfiguration('promptLens', document.uri);
    return {
      file: document.uri.fsPath,
      runsDir: runsDirFor(document.uri),
      provider: config.get<ProviderChoice>('executionProvider', 'cpu'),
      models: userModels(document.uri),
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

  /** A pipeline finished loading (before its first step): the sidebar shows the model and provider now. */
  pipelineLoaded(info: LoadedPipelineInfo): void {
    this.model = { id: info.modelId, provider: info.provider, fallbacks: info.fallbacks };
    this.log.info(`Loaded ${info.modelId} on ${info.provider} (${info.modelRoot})`);
    for (const fallback of info.fallbacks) this.log.warn(`Provider skipped: ${fallback}`);
    this.modelChanged.fire(this.model);
  }

  private usedModel(result: { model: { id: string }; provider: { name: string; fallbacks: string[] } }): void {
    // Fallbacks were logged when the pipeline loaded.
    this.model = { id: result.model.id, provider: result.provider.name, fallbacks: result.provider.fallbacks };
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
    const promptText = document.lineAt(Math.min(line, document.lineCount - 1)).text.trim();
    this.log.info(`Generate ${path.basename(document.uri.fsPath)}:${line + 1} → ${runsDirFor(document.uri)}`);
    return this.sample(document.uri, document.getText(), line, promptText, {});
  }

  /**
   * The run in `folder` with the display maps aggregating only `filter`'s layer or grid, head and steps: the
   * same image, other maps, as a new run. For the newest Generate over all steps, from its stored per-layer
   * sums; otherwise sampled again (its prompt, seed and steps; the prompt looked up in its .prompt file by
   * text). Scores and masks stay Separate-and-Enhance's own.
   */
  async filterMaps(folder: string, filter: MapFilter): Promise<CompletedRun | undefined> {
    const last = this.lastRun?.folder === folder ? this.lastRun : undefined;
    const selection = last ? selectionOf(filter, last.result.layers) : undefined;
    if (last && selection && last.analysis.canRefilter(selection)) {
      this.log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}, from the run's stored maps`);
      return this.job('generate', `${last.result.prompt} · ${describeFilter(filter)}`, async (job) => {
        job.status('Aggregating the stored maps…');
        return this.showRun(await refilterRun(last, selection, last.runsDir), filter, last);
      });
    }
    let source: Awaited<ReturnType<RunController['runSource']>>;
    try {
      source = await this.runSource(folder);
    } catch (error) {
      this.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    const label = `${source.prompt} · ${describeFilter(filter)}`;
    this.log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}`);
    return this.sample(source.uri, source.text, source.line, label, { seed: source.seed, steps: source.steps }, filter, source.layers);
  }

  /** The .prompt file, line and settings a run record was made from (the file as open in the editor, else on disk). */
  private async runSource(
    folder: string,
  ): Promise<{ uri: vscode.Uri; text: string; line: number; prompt: string; seed: number; steps: number; layers: { gridH: number; gridW: number }[] }> {
    const json = JSON.parse(await fs.readFile(path.join(folder, 'run.json'), 'utf8')) as {
      prompt?: string;
      source?: { file?: string; line?: number };
      settings?: { seed?: number; steps?: number };
      layers?: { gridH: number; gridW: number }[];
    };
    const file = json.source?.file;
    if (typeof json.prompt !== 'string' || typeof file !== 'string' || typeof json.settings?.seed !== 'number' || typeof json.settings.steps !== 'number') {
      throw new Error(`${folder}/run.json does not say which .prompt file, seed and steps made it`);
    }
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    let text: string;
    try {
      text = open ? open.getText() : await fs.readFile(file, 'utf8');
    } catch {
      throw new Error(`cannot filter the maps: ${file}, the prompt file of this run, is gone`);
    }
    const prompts = parsePromptFile(text, file).prompts.filter((p) => p.text === json.prompt);
    const wantedLine = (json.source?.line ?? 1) - 1;
    const prompt = prompts.find((p) => p.line === wantedLine) ?? prompts[0];
    if (!prompt) throw new Error(`cannot filter the maps: "${json.prompt}" is no longer a prompt of ${path.basename(file)}; Generate it again`);
    return { uri, text, line: prompt.line, prompt: json.prompt, seed: json.settings.seed, steps: json.settings.steps, layers: Array.isArray(json.layers) ? json.layers : [] };
  }

  /** One Generate job: the prompt on `line`, optionally with seed/steps overridden and the maps filtered. */
  private sample(
    uri: vscode.Uri,
    text: string,
    line: number,
    label: string,
    overrides: { seed?: number; steps?: number },
    filter?: MapFilter,
    layers?: { gridH: number; gridW: number }[],
  ): Promise<CompletedRun | undefined> {
    const { file, runsDir, provider, models } = this.settings({ uri });
    return this.job('generate', label, async (job) => {
      let analysis: AttentionAnalysis | undefined;
      // Every seed of the file's list, each its own run; the view shows the last, History lists them all.
      const runs = await runPromptSeeds(
        {
          file,
          text,
          line,
          runsDir,
          builtinModelsDir: this.builtinModelsDir,
          provider,
          models,
          allowModelPaths: vscode.workspace.isTrusted,
          ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
          ...(filter ? { selection: selectionOf(filter, layers) } : {}),
        },
        this.pipelines,
        {
          signal: job.signal,
          onStatus: (message) => job.status(message),
          onProgress: (p) => {
            if (job.update(p.step, p.totalSteps, `step ${p.step}/${p.totalSteps}`)) {
              this.panel.post({ type: 'progress', runId: job.id, step: p.step, totalSteps: p.totalSteps });
            }
          },
          onAnalysis: (a) => (analysis = a),
        },
        {
          onWritten: ({ written }, index, of) => {
            if (index === of - 1) return;
            this.folders.set(written.id, written.folder);
            this.finished.fire({ kind: 'generate', folder: written.folder });
          },
        },
      );
      if (runs.length > 1) {
        this.log.info(seedSummary(runs.map((r) => r.result)));
        for (const line of seedRanking(runs.map((r) => r.result))) this.log.info(line);
      }
      // A filter's re-run (one seed) keeps the seed list of the Generate it came from.
      if (!filter) this.seedRuns = runs.length > 1 ? runs.map((r) => ({ seed: r.result.settings.seed, runFolder: r.written.folder })) : [];
      return this.showRun(runs[runs.length - 1], filter, analysis && { analysis, runsDir });
    });
  }

  /** A Generate's (or a filter's) new record: shown, remembered for filtering, announced. */
  private showRun(done: { result: RunResult; written: WrittenRun }, filter: MapFilter | undefined, kept: { analysis: AttentionAnalysis; runsDir: string } | undefined): CompletedRun {
    this.folders.set(done.written.id, done.written.folder);
    this.log.info(`Done in ${Math.round(done.result.timings.totalMs)} ms on ${done.result.provider.name}: ${done.written.folder}`);
    this.usedModel(done.result);
    this.lastRun = kept && { folder: done.written.folder, result: done.result, ...kept };
    this.panel.showView({ kind: 'run', folder: done.written.folder }, { type: 'result', run: this.withSeedRuns(toRunView(done.result, done.written, filter)) });
    this.finished.fire({ kind: 'generate', folder: done.written.folder });
    return { runId: done.written.id, runFolder: done.written.folder };
  }

  /** Another seed's run of the newest Generate, read from its record (only those runs: the request comes from the webview). */
  async openSeedRun(folder: string): Promise<void> {
    if (!this.seedRuns.some((r) => r.runFolder === folder)) return;
    try {
      this.panel.showView({ kind: 'run', folder }, { type: 'result', run: this.withSeedRuns(await loadRunView(folder)) });
    } catch (error) {
      this.notice(`cannot show ${folder}: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }

  private withSeedRuns(run: RunView): RunView {
    return this.seedRuns.some((r) => r.runFolder === run.runFolder) ? { ...run, seedRuns: this.seedRuns } : run;
  }

  /**
   * Separate-and-Enhance finetune on the file's multi-object prompts (`promptLens.finetune.*`
   * settings unless `options` says otherwise), then the before/after view of the cursor's prompt.
   */
  async finetune(document: vscode.TextDocument, line: number, options: FinetuneOptions = {}): Promise<CompletedRun | undefined> {
    if (!this.checkDocument(document, 'finetune')) return undefined;
    const { file, runsDir, provider, models } = this.settings(document);
    const userSettings = userFinetuneSettings(vscode.workspace.getConfiguration('promptLens', document.uri));
    const text = document.getText();
    const parsed = parsePromptFile(text, file);
    const cursorPrompt = parsed.prompts.find((p) => p.line >= line)?.text;
    this.log.info(`Finetune ${path.basename(file)} → ${runsDir}`);
    return this.job('finetune', path.basename(file), async (job) => {
      // The engine says which before/after sample comes next (index of total, base or finetuned).
      let sample: { index: number; total: number; side: 'before' | 'after' } | undefined;
      const done = await runFinetune(
        {
          file,
          text,
          builtinModelsDir: this.builtinModelsDir,
          provider,
          models,
          allowModelPaths: vscode.workspace.isTrusted,
          runsDir,
          overrides: { finetuneSteps: options.steps, lr: options.lr },
          userSettings,
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
          onSample: (index, total, info) => {
            sample = { index, total, side: info.side };
            this.log.debug(`finetune sample ${index + 1}/${total}: ${info.side} · ${info.group} · "${info.prompt}" · seed ${info.seed}`);
          },
          onProgress: (p) => {
            const detail = samplingDetail((sample?.index ?? 0) + 1, sample?.total ?? 1, p.step, p.totalSteps, sample?.side);
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
    const { file, runsDir, provider, models } = this.settings(document);
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
        { file, text, line, keySetFile: chosen.file, runsDir, builtinModelsDir: this.builtinModelsDir, provider, models, allowModelPaths: vscode.workspace.isTrusted },
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
    const root = resolveModel(effectiveSettings(parsed.settings).model, file, this.modelLookup(file), parsed.settings.model?.valueRange);
    const folder = await openModelFolder(root);
    return { id: folder.id, hash: folder.hash };
  }

  /** The run settings for a .prompt file's front matter and where each comes from (its model's recommended defaults included). */
  fileSettings(file: string, written: PromptSettings): Promise<ResolvedFileSettings> {
    return resolveFileSettings(written, file, this.modelLookup(file));
  }

  private modelLookup(file: string): ModelLookup {
    return { builtinModelsDir: this.builtinModelsDir, named: userModels(vscode.Uri.file(file)), allowPaths: vscode.workspace.isTrusted };
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

