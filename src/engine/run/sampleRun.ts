// The two steps every job on a .prompt file shares: open it (diagnostics, settings, model), and
// sample one prompt with attention capture into a RunResult (maps, scores, detector check).
import { constants as bufferConstants } from 'node:buffer';
import * as path from 'node:path';
import { checkImage, parseCaption, type DetectionReport, type DetectorWorld } from '../detector';
import { usesGuidance } from '../promptFile/guidance';
import { CancelledError, type GenerateOutput, type GenerateProgress, type Pipeline } from '../pipeline/pipeline';
import type { PipelineCache } from '../pipeline/pipelineCache';
import { ModelError } from '../model/modelFolder';
import { modelDefaultsPath, readModelDetectorWorld, readModelScores, type ModelScores } from '../model/modelDefaults';
import { formatDiagnostic, parsePromptFile, type ParsedPromptFile, type PromptLine, type SourceRange } from '../promptFile';
import type { ProviderChoice } from '../session/providers';
import type { SelectionOptions } from '../attention';
import { ScoreRecipeError, SelectionError, type AnalysisInput, type AnalysisOutput } from './attentionAnalysis';
import { startBatchAnalysis } from './analysisThread';
import { InputError } from '../files/errors';
import { estimateSampleMemory, memoryProblem, sampleMemoryLimit } from './memoryBudget';
import { resolveFileSettings } from './resolveModel';
import type { RunDetection, RunResult, RunSettings } from '../record/runResult';

export interface PromptFileSource {
  /** Absolute path of the .prompt file: relative model paths and messages refer to it. */
  file: string;
  /** The file's text (the editor's buffer, saved or not). */
  text: string;
  builtinModelsDir: string;
  provider: ProviderChoice;
  /** False in an untrusted workspace: only embedded models may be loaded. Default true. */
  allowModelPaths?: boolean;
  /** The user's own named exports, name → folder. */
  models?: Record<string, string>;
}

/**
 * A loaded model, the world its images are judged in (its prompt_lens.json "detector", default tiny-shapes') and
 * its measured score recipes ("scores"; absent: the paper's layers, unmeasured), read once per opened file.
 */
export interface SampledModel {
  pipeline: Pipeline;
  world: DetectorWorld;
  scoreRecipes?: ModelScores;
}

export interface OpenedPromptFile extends SampledModel {
  parsed: ParsedPromptFile;
  /** The seeds to run: the file's list (or the override's one). */
  seeds: number[];
  /** Each value from the file, else the model's recommended defaults, else the engine's; `sources` says which. */
  settings: RunSettings;
}

export interface SampleHooks {
  signal?: AbortSignal;
  onStatus?(message: string): void;
  onProgress?(progress: GenerateProgress): void;
}

/** Parses the file (errors name file:line:col), resolves its model and loads (or reuses) the pipeline. */
export async function openPromptFile(
  source: PromptFileSource,
  pipelines: PipelineCache,
  overrides: { seed?: number; steps?: number } = {},
  hooks: SampleHooks = {},
): Promise<OpenedPromptFile> {
  const { file } = source;
  const parsed = parsePromptFile(source.text, file);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    throw new InputError(
      errors.map((d) => formatDiagnostic(file, d)).join('\n'),
      errors.length === 1 ? undefined : { file, line: first.line, column: first.column },
    );
  }
  const modelAt = parsed.settings.model?.valueRange;
  const { modelRoot, values, sources } = await resolveFileSettings(parsed.settings, file, {
    builtinModelsDir: source.builtinModelsDir,
    named: source.models,
    allowPaths: source.allowModelPaths,
  }).catch((error: unknown) => {
    throw modelInputError(error, file, modelAt);
  });
  const seeds = overrides.seed === undefined ? values.seed : [overrides.seed];
  const settings: RunSettings = {
    // A list of seeds is for batch jobs; a single run takes the first.
    seed: seeds[0],
    steps: overrides.steps ?? values.steps,
    guidance: values.guidance,
    eta: values.eta,
    negative: values.negative,
    scheduler: values.scheduler,
    ...(values.size !== undefined ? { size: values.size } : {}),
    sources: {
      seed: overrides.seed === undefined ? sources.seed : 'override',
      steps: overrides.steps === undefined ? sources.steps : 'override',
      guidance: sources.guidance,
      eta: sources.eta,
      negative: sources.negative,
      scheduler: sources.scheduler,
      size: sources.size,
    },
  };
  hooks.onStatus?.(`Loading ${path.basename(modelRoot)}…`);
  const pipeline = await pipelines.get(modelRoot, source.provider).catch((error: unknown) => {
    throw modelInputError(error, file, modelAt);
  });
  const sizeOrigin = sources.size === 'model' ? { defaultsFile: modelDefaultsPath(modelRoot) } : { where: parsed.settings.size?.valueRange };
  checkSampleShape(pipeline, settings, file, sizeOrigin);
  checkSampleMemory(pipeline, settings, file, sizeOrigin);
  const scoreRecipes = await readModelScores(modelRoot).catch((error: unknown) => {
    throw error instanceof ModelError ? new InputError(error.message) : error;
  });
  return { parsed, seeds, settings, pipeline, world: await readModelDetectorWorld(modelRoot), ...(scoreRecipes ? { scoreRecipes } : {}) };
}

/**
 * A model that cannot be opened or loaded (a missing folder, a broken part, a bad prompt_lens.json, a provider
 * that refuses it) is the `model:` setting's problem: an InputError naming the .prompt file and the line of
 * `model:` (none when the default model applies), in one line, with the loader's error as its cause.
 */
function modelInputError(error: unknown, file: string, modelAt: SourceRange | undefined): unknown {
  if (error instanceof InputError || error instanceof CancelledError) return error;
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, '; ');
  return modelAt
    ? new InputError(`model: ${message}`, { file, line: modelAt.line, column: modelAt.column }, { cause: error })
    : new InputError(`${file}: the default model: ${message}`, undefined, { cause: error });
}

/** One prompt and seed of a batch, and the file its prompt comes from (for messages). */
export interface SampleItem {
  prompt: PromptLine;
  settings: RunSettings;
  file: string;
}

/** Samples one prompt with attention capture and analysis; `keys` overlays finetuned key projections. */
export async function sampleRun(
  model: SampledModel,
  prompt: PromptLine,
  settings: RunSettings,
  file: string,
  hooks: SampleHooks = {},
  keys?: Map<string, Float32Array>,
  options: { selection?: SelectionOptions; storeAttention?: boolean } = {},
): Promise<RunResult> {
  const [result] = await sampleRuns(model, [{ prompt, settings, file }], hooks, keys, options);
  return result;
}

/**
 * Samples several prompts or seeds in one UNet call per step (Pipeline.generateBatch), each with its own
 * attention analysis; each result is what `sampleRun` makes of its item alone, to float rounding, with its share
 * of the batch's time. The items must share steps, eta, size and whether they use guidance (see sampleBatchSize
 * for how many fit).
 */
export async function sampleRuns(
  { pipeline, world, scoreRecipes }: SampledModel,
  items: readonly SampleItem[],
  hooks: SampleHooks = {},
  keys?: Map<string, Float32Array>,
  options: { selection?: SelectionOptions; storeAttention?: boolean } = {},
): Promise<RunResult[]> {
  const { selection, storeAttention } = options;
  const inputs = items.map(({ prompt, settings, file }): AnalysisInput => {
    const [, sampleH, sampleW] = pipeline.sampleShape(settings.size);
    const tokenized = pipeline.tokenizer.encode(prompt.text);
    const lost = prompt.objects.filter((o) => pipeline.tokenizer.tokenIndicesForSpan(tokenized, o.start, o.end).length === 0);
    if (lost.length > 0) {
      throw new InputError(`[${lost[0].word}] falls beyond the model's ${pipeline.tokenizer.maxLength}-token limit and would be cut off`, {
        file,
        line: prompt.line,
        column: lost[0].column,
      });
    }
    return {
      prompt: prompt.text,
      objects: prompt.objects,
      tokenized,
      steps: settings.steps,
      sampleH,
      sampleW,
      selection,
      storeAttention,
      ...(scoreRecipes ? { scoreRecipes, scoreRecipesFile: modelDefaultsPath(pipeline.model.root) } : {}),
    };
  });
  const { steps } = items[0].settings;
  hooks.onStatus?.(items.length === 1 ? `Sampling ${steps} steps…` : `Sampling ${items.length} images together, ${steps} steps…`);
  const requests = items.map(({ prompt, settings }) => ({
    prompt: prompt.text,
    negativePrompt: settings.negative,
    seed: settings.seed,
    steps: settings.steps,
    guidance: settings.guidance,
    eta: settings.eta,
    ...(settings.size !== undefined ? { size: settings.size } : {}),
    ...(keys ? { keys } : {}),
  }));
  const analysis = startBatchAnalysis(inputs);
  let outputs: GenerateOutput[];
  let detections: (RunDetection | undefined)[];
  let analyses: AnalysisOutput[];
  try {
    outputs = await pipeline.generateBatch(requests, { signal: hooks.signal, onProgress: hooks.onProgress, onAttention: analysis.onAttention });
    // The detector runs here while the analysis thread finishes the last step.
    detections = items.map(({ prompt }, item) => detect(prompt.text, outputs[item].image, world));
    analyses = await analysis.finish();
  } catch (error) {
    analysis.discard();
    // The selection and score recipes are checked against the layers once the first step shows them.
    if (error instanceof ScoreRecipeError) throw new InputError(error.message);
    throw error instanceof SelectionError ? new InputError(`selection: ${error.message}`) : error;
  }
  return items.map(({ prompt, settings, file }, item) => {
    const output = outputs[item];
    const detection = detections[item];
    const analysed = analyses[item];
    // NaN or infinite attention means a broken model or key overlay: its black image is no result to record.
    const broken = analysed.words.find((w) => w.map.some((v) => !Number.isFinite(v)));
    if (broken || (analysed.scores && !Number.isFinite(analysed.scores.overlap))) {
      const by = keys ? 'the finetuned key set' : `the model ${pipeline.model.id}`;
      throw new InputError(`${file}:${prompt.line + 1}: sampling "${prompt.text}" with ${by} gave NaN or infinite attention${broken ? ` (the map of "${broken.word}")` : ''}; nothing was written`);
    }
    const result: RunResult = {
      prompt: prompt.text,
      objects: prompt.objects.map(({ word, start, end }) => ({ word, start, end })),
      source: { file, line: prompt.line + 1 },
      settings,
      model: { id: pipeline.model.id, path: pipeline.model.root, hash: pipeline.model.hash },
      provider: pipeline.provider,
      image: output.image,
      tokens: output.tokenized.tokens.map((t, index) => ({ index, id: t.id, text: t.text })),
      ...analysed,
      ...(detection ? { detection } : {}),
      timings: output.timings,
    };
    return result;
  });
}

/**
 * Seeds (or prompts) of `settings` one UNet call carries: the pipeline's batch limit for the size, fewer where
 * the batch's attention would not fit the memory limit (one always fits: openPromptFile checked it).
 */
export function sampleBatchSize(pipeline: Pipeline, settings: RunSettings): number {
  for (let samples = pipeline.batchLimit(settings.size); samples > 1; samples--) {
    if (!sampleMemoryProblem(pipeline, settings, samples)) return samples;
  }
  return 1;
}

/** `items` cut into consecutive batches of at most `size`. */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let first = 0; first < items.length; first += size) batches.push(items.slice(first, first + size));
  return batches;
}

/**
 * The shape detector applies to prompts written entirely in its world's vocabulary (the embedded models'
 * scenes); for any other prompt there is nothing it could check.
 */
function detect(prompt: string, image: RunResult['image'], world: DetectorWorld): RunDetection | undefined {
  const caption = parseCaption(prompt, world);
  if (caption.objects.length === 0 || caption.unknown.length > 0 || caption.problems.length > 0) return undefined;
  return summarise(checkImage(image, caption.objects, { world }));
}

function summarise(report: DetectionReport): RunDetection {
  const name = (o: { colour?: string; shape: string }): string => (o.colour ? `${o.colour} ${o.shape}` : o.shape);
  return {
    success: report.success,
    objects: report.objects.map((o) => ({ object: name(o.requested), status: o.status })),
    detected: report.detections.map(name),
    extra: report.extra.map(name),
  };
}

/**
 * A size (and guidance batch) whose attention would not fit in memory is refused before sampling,
 * with the estimate and the limit, where the size was set.
 */
function checkSampleMemory(pipeline: Pipeline, settings: RunSettings, file: string, origin: { where?: SourceRange; defaultsFile?: string }): void {
  const problem = sampleMemoryProblem(pipeline, settings, 1);
  if (!problem) return;
  const [, height, width] = pipeline.sampleShape(settings.size);
  const size = settings.size ? `${settings.size.width}x${settings.size.height}` : `the model's ${width}x${height}-cell default`;
  const message = `size: ${size} at batch ${guidanceBatch(settings)} ${problem}; choose a smaller size`;
  const { where, defaultsFile } = origin;
  if (defaultsFile) throw new InputError(`${defaultsFile}: "defaults.${message}`.replace('size: ', 'size": '));
  throw new InputError(where ? message : `${file}: ${message}`, where && { file, line: where.line, column: where.column });
}

/** UNet samples per image: the unconditional and the conditional one with guidance. */
function guidanceBatch(settings: RunSettings): number {
  return usesGuidance(settings.guidance) ? 2 : 1;
}

/** Why `images` sampled together at `settings` would not fit in memory, or undefined when they fit. */
function sampleMemoryProblem(pipeline: Pipeline, settings: RunSettings, images: number): string | undefined {
  const [, height, width] = pipeline.sampleShape(settings.size);
  const batch = images * guidanceBatch(settings);
  const estimate = estimateSampleMemory({ height, width, batch, tokens: pipeline.tokenizer.maxLength, layers: pipeline.instrumented.layers });
  return memoryProblem(estimate, sampleMemoryLimit(), bufferConstants.MAX_LENGTH);
}

/** A size the model cannot take is reported where it was set: the file's `size:` or the model's defaults file. */
function checkSampleShape(pipeline: Pipeline, settings: RunSettings, file: string, origin: { where?: SourceRange; defaultsFile?: string }): void {
  try {
    pipeline.sampleShape(settings.size);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const { where, defaultsFile } = origin;
    if (defaultsFile) throw new InputError(`${defaultsFile}: "defaults.size" does not fit the model (${message})`);
    throw new InputError(message, where && { file, line: where.line, column: where.column });
  }
}
