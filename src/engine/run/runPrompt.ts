// One run from a .prompt file: parse, pick the prompt, load (or reuse) the model, sample with
// attention capture, analyse, and write the run record. Shared by the extension and the CLI.
import * as path from 'node:path';
import type { GenerateProgress, Pipeline } from '../pipeline/pipeline';
import type { PipelineCache } from '../pipeline/pipelineCache';
import { resolveModel } from './resolveModel';
import { effectiveSettings, formatDiagnostic, parsePromptFile, type PromptLine, type SourceRange } from '../promptFile';
import type { ProviderChoice } from '../session/createSession';
import { AttentionAnalysis } from './attentionAnalysis';
import { InputError } from './errors';
import { writeRunRecord, type WrittenRun } from './runRecord';
import type { RunResult, RunSettings } from './runResult';

export interface RunPromptRequest {
  /** Absolute path of the .prompt file: relative model paths and messages refer to it. */
  file: string;
  /** The file's text (the editor's buffer, saved or not). */
  text: string;
  /** 0-based line of the prompt; a non-prompt line runs the next prompt below it. Default: the first prompt. */
  line?: number;
  overrides?: { seed?: number; steps?: number };
  runsDir: string;
  builtinModelsDir: string;
  provider: ProviderChoice;
}

export interface RunPromptHooks {
  signal?: AbortSignal;
  onStatus?(message: string): void;
  onProgress?(progress: GenerateProgress): void;
}

export async function runPrompt(
  request: RunPromptRequest,
  pipelines: PipelineCache,
  hooks: RunPromptHooks = {},
): Promise<{ result: RunResult; written: WrittenRun }> {
  const { file } = request;
  const parsed = parsePromptFile(request.text, file);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    throw new InputError(
      errors.map((d) => formatDiagnostic(file, d)).join('\n'),
      errors.length === 1 ? undefined : { file, line: first.line, column: first.column },
    );
  }
  const prompt = pickPrompt(parsed.prompts, request.line, file);
  const fileSettings = effectiveSettings(parsed.settings);
  const settings: RunSettings = {
    // A list of seeds is for batch runs; a single run takes the first.
    seed: request.overrides?.seed ?? fileSettings.seed[0],
    steps: request.overrides?.steps ?? fileSettings.steps,
    guidance: fileSettings.guidance,
    eta: fileSettings.eta,
    negative: fileSettings.negative,
    scheduler: 'ddim',
    ...(fileSettings.size !== undefined ? { size: fileSettings.size } : {}),
  };

  const modelRoot = resolveModel(fileSettings.model, file, request.builtinModelsDir, parsed.settings.model?.valueRange);
  hooks.onStatus?.(`Loading ${path.basename(modelRoot)}…`);
  const pipeline = await pipelines.get(modelRoot, request.provider);

  const [, sampleH, sampleW] = sampleShapeFor(pipeline, settings, file, parsed.settings.size?.valueRange);
  const tokenized = pipeline.tokenizer.encode(prompt.text);
  const analysis = new AttentionAnalysis({
    prompt: prompt.text,
    objects: prompt.objects,
    tokenized,
    steps: settings.steps,
    sampleH,
    sampleW,
  });
  const lost = prompt.objects.filter((o) => !tokenized.tokens.some((t) => t.wordIndex >= 0 && t.start < o.end && t.end > o.start));
  if (lost.length > 0) {
    throw new InputError(
      `[${lost[0].word}] falls beyond the model's ${pipeline.tokenizer.maxLength}-token limit and would be cut off`,
      { file, line: prompt.line, column: lost[0].column },
    );
  }
  hooks.onStatus?.(`Sampling ${settings.steps} steps…`);
  const output = await pipeline.generate(
    {
      prompt: prompt.text,
      negativePrompt: settings.negative,
      seed: settings.seed,
      steps: settings.steps,
      guidance: settings.guidance,
      eta: settings.eta,
      ...(settings.size !== undefined ? { size: settings.size } : {}),
    },
    { signal: hooks.signal, onProgress: hooks.onProgress, onAttention: analysis.onAttention },
  );
  const analysed = analysis.finish();
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
    timings: output.timings,
  };
  hooks.onStatus?.('Writing the run record…');
  const written = await writeRunRecord(result, request.runsDir);
  return { result, written };
}

function pickPrompt(prompts: PromptLine[], line: number | undefined, file: string): PromptLine {
  if (prompts.length === 0) throw new InputError(`${file} has no prompt lines (only front matter, comments or blank lines)`);
  if (line === undefined) return prompts[0];
  const exact = prompts.find((p) => p.line === line) ?? prompts.find((p) => p.line > line);
  if (!exact) throw new InputError(`Line ${line + 1} of ${file} is not a prompt and no prompt follows it`);
  return exact;
}

function sampleShapeFor(pipeline: Pipeline, settings: RunSettings, file: string, where?: SourceRange): [number, number, number] {
  try {
    return pipeline.sampleShape(settings.size);
  } catch (error) {
    throw new InputError(error instanceof Error ? error.message : String(error), where && { file, line: where.line, column: where.column });
  }
}
