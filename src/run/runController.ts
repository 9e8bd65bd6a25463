// The three jobs on a .prompt file: Generate (one prompt), Finetune (Separate-and-Enhance on the
// file's multi-object prompts, then before/after runs) and Compare (one prompt, base vs a finetuned
// key set). Each goes through the run queue (progress, status bar, cancel), logs to the output
// channel and ends in the results panel.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { executionProvider, runsFolderOf, userFinetuneSettings, userModels } from '../config';
import { findKeySets, type KeySetSummary } from '../engine/history';
import { encodePng } from '../engine/image/png';
import { openModelFolder } from '../engine/model/modelFolder';
import { CancelledError } from '../engine/pipeline/pipeline';
import type { PipelineCache } from '../engine/pipeline/pipelineCache';
import { effectiveSettings, parsePromptFile, type PromptSettings } from '../engine/promptFile';
import type { LoadedPipelineInfo } from '../engine/pipeline/pipelineCache';
import { comparePrompt } from '../engine/run/comparePrompt';
import { InputError } from '../engine/run/errors';
import { resolveFileSettings, resolveModel, type ModelLookup, type ResolvedFileSettings } from '../engine/run/resolveModel';
import { runFinetune } from '../engine/run/runFinetune';
import { runPromptSeeds } from '../engine/run/runPrompt';
import type { WrittenRun } from '../engine/run/runRecord';
import type { RunResult } from '../engine/run/runResult';
import { seedRanking, seedSummary } from '../engine/run/seedSummary';
import { storedMaps } from '../engine/run/storedView';
import type { ProviderChoice } from '../engine/session/providers';
import { LANGUAGE_ID } from '../ids';
import type { JobKind, MapFilter, RunView, SeedRun } from '../protocol/messages';
import type { ResultsPanel } from '../results/resultsPanel';
import { chooseKeySet, describeFilter, keySetsForModel, selectionOf, NO_KEY_SET_MESSAGE, samplingDetail, trainingDetail } from './jobLogic';
import type { JobContext, JobQueue } from './jobQueue';
import { loadCompareView, loadRunView, toRunView } from './runView';
import { allowedPath, filterSource, type WorkspaceAccess } from './workspaceAccess';

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

/** A seed's entry in the results view's seed strip: its folder, detector verdict and image. */
function seedRunOf(run: { result: RunResult; written: WrittenRun }): SeedRun {
  const png = encodePng(run.result.image);
  return {
    seed: run.result.settings.seed,
    runFolder: run.written.folder,
    ...(run.result.detection ? { detection: run.result.detection } : {}),
    imagePng: png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer,
  };
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
    return {
      file: document.uri.fsPath,
      runsDir: runsFolderOf(document.uri),
      provider: executionProvider(document.uri),
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

  /** The editor already underlines errors in the file: say so before the run finds them (it goes ahead). */
  private warnOfErrors(document: vscode.TextDocument): void {
    const errors = vscode.languages.getDiagnostics(document.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error && d.source === 'Prompt Lens');
    if (errors.length === 0) return;
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    this.notice(`${path.basename(document.uri.fsPath)} has errors the run may stop on: line ${first.range.start.line + 1}: ${first.message}${more}`, 'warning', {
      title: 'Show Problems',
      run: () => void vscode.commands.executeCommand('workbench.actions.view.problems'),
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
    this.warnOfErrors(document);
    this.log.info(`Generate ${path.basename(document.uri.fsPath)}:${line + 1} → ${runsFolderOf(document.uri)}`);
    return this.sample(document.uri, document.getText(), line, promptText, {});
  }

  /**
   * The run in `folder` with its display maps aggregating only `filter`'s layer or grid, head and steps: a view
   * of the same run, aggregated from the attention its folder kept (nothing sampled, nothing written). Only a
   * run without that (older records), or one that kept step sums only and a step range, is sampled again (its
   * prompt, seed and steps; the prompt looked up in its .prompt file by text), as a new run that records the
   * run it filters. Scores and masks stay Separate-and-Enhance's own.
   */
  async filterMaps(folder: string, filter: MapFilter): Promise<CompletedRun | undefined> {
    let shown: RunView;
    try {
      shown = await loadRunView(folder);
      const maps = await storedMaps(folder, selectionOf(filter, shown.layers));
      if (maps) {
        this.log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}, from the run's kept attention`);
        const wordMaps = new Float32Array(maps.maps.length * maps.mapHeight * maps.mapWidth);
        maps.maps.forEach((m, i) => wordMaps.set(m, i * maps.mapHeight * maps.mapWidth));
        const isDefault = Object.keys(filter).length === 0;
        const view: RunView = { ...shown, wordMaps: wordMaps.buffer, mapRecipe: maps.mapRecipe, ...(isDefault ? {} : { filter }) };
        this.panel.showView({ kind: 'run', folder }, { type: 'result', run: this.withSeedRuns(view) });
        return { runId: shown.runId, runFolder: folder };
      }
    } catch (error) {
      this.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    let source: Awaited<ReturnType<RunController['runSource']>>;
    try {
      source = await this.runSource(folder);
    } catch (error) {
      this.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    const label = `${source.prompt} · ${describeFilter(filter)}`;
    this.log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}; the run kept no per-step maps, so it is sampled again`);
    return this.sample(source.uri, source.text, source.line, label, { seed: source.seed, steps: source.steps }, { filter, layers: source.layers, of: folder, runsDir: source.runsDir });
  }

  /** What a job may read and write besides what the user opened: the whole disk when trusted, else the workspace. */
  access(): WorkspaceAccess {
    return { trusted: vscode.workspace.isTrusted, folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) };
  }

  /** Folders this window wrote or showed (the results panel may load them again). */
  knownFolders(): string[] {
    return [...this.folders.values()];
  }

  /**
   * The .prompt file, line and settings a run record was made from (the file as open in the editor, else on
   * disk), checked by the shared reader; in an untrusted workspace the file must be inside it.
   */
  private async runSource(folder: string): Promise<{ uri: vscode.Uri; text: string; line: number; prompt: string; seed: number; steps: number; layers: { gridH: number; gridW: number }[]; runsDir: string }> {
    const source = await filterSource(folder, this.access());
    const { file } = source;
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    let text: string;
    try {
      text = open ? open.getText() : await fs.readFile(file, 'utf8');
    } catch {
      throw new Error(`cannot filter the maps: ${file}, the prompt file of this run, is gone`);
    }
    const prompts = parsePromptFile(text, file).prompts.filter((p) => p.text === source.prompt);
    const prompt = prompts.find((p) => p.line === source.line - 1) ?? prompts[0];
    if (!prompt) throw new Error(`cannot filter the maps: "${source.prompt}" is no longer a prompt of ${path.basename(file)}; Generate it again`);
    return { uri, text, line: prompt.line, prompt: source.prompt, seed: source.seed, steps: source.steps, layers: source.layers, runsDir: source.runsDir };
  }

  /** One Generate job: the prompt on `line`, optionally with seed/steps overridden and the maps filtered. */
  private sample(
    uri: vscode.Uri,
    text: string,
    line: number,
    label: string,
    overrides: { seed?: number; steps?: number },
    filtering?: { filter: MapFilter; layers: { gridH: number; gridW: number }[]; of: string; runsDir: string },
  ): Promise<CompletedRun | undefined> {
    const filter = filtering?.filter;
    const { file, provider, models, runsDir: fileRunsDir } = this.settings({ uri });
    // A filter's new run goes beside the run it filters (never a folder the record names).
    const runsDir = filtering?.runsDir ?? fileRunsDir;
    return this.job('generate', label, async (job) => {
      await allowedPath(runsDir, this.access(), 'the runs folder');
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
          ...(filtering ? { selection: selectionOf(filtering.filter, filtering.layers), filteredFrom: filtering.of } : {}),
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
      if (!filter) this.seedRuns = runs.length > 1 ? runs.map(seedRunOf) : [];
      return this.showRun(runs[runs.length - 1], filter);
    });
  }

  /** A Generate's (or a filter's) new record: shown and announced. */
  private showRun(done: { result: RunResult; written: WrittenRun }, filter: MapFilter | undefined): CompletedRun {
    this.folders.set(done.written.id, done.written.folder);
    this.log.info(`Done in ${Math.round(done.result.timings.totalMs)} ms on ${done.result.provider.name}: ${done.written.folder}`);
    this.usedModel(done.result);
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
    const userSettings = userFinetuneSettings(document.uri);
    const text = document.getText();
    const parsed = parsePromptFile(text, file);
    const cursorPrompt = parsed.prompts.find((p) => p.line >= line)?.text;
    this.log.info(`Finetune ${path.basename(file)} → ${runsDir}`);
    return this.job('finetune', path.basename(file), async (job) => {
      await allowedPath(runsDir, this.access(), 'the runs folder');
      // The engine says which before/after samples come next (first and count of total, base or finetuned).
      let sampling: { first: number; count: number; total: number; side: 'before' | 'after' } | undefined;
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
          onSamples: (first, total, side, samples) => {
            sampling = { first, count: samples.length, total, side };
            for (const [i, s] of samples.entries()) this.log.debug(`finetune sample ${first + i + 1}/${total}: ${side} · ${s.group} · "${s.prompt}" · seed ${s.seed}`);
          },
          onProgress: (p) => {
            const detail = samplingDetail((sampling?.first ?? 0) + 1, sampling?.count ?? 1, sampling?.total ?? 1, p.step, p.totalSteps, sampling?.side);
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
      await allowedPath(runsDir, this.access(), 'the runs folder');
      await allowedPath(chosen.file, this.access(), 'the key set');
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

