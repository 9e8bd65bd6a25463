// A Separate-and-Enhance finetune from a .prompt file, with its evidence: trains the key projections
// on the file's multi-object prompts, then samples every prompt (and any held-out file's) with the
// base and the finetuned keys, same seeds, and writes keys, loss curve, before/after runs and a report.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../files/errors';
import { OutputFolderError, pathExists, prepareOutputFolder, slug, timestamp, writeStagedFolder } from '../files/stagedFolder';
import { finetuneJson, type Comparison, type FinetuneRunResult, type PromptGroup } from '../finetune/finetuneResult';
import { describeFinetuneSettings, resolveFinetuneSettings } from '../finetune/finetuneSettings';
import { encodeKeySet, type KeySetInfo } from '../finetune/keySet';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor, type FinetuneOptions, type FinetuneStep } from '../finetune/trainer';
import { readModelFinetune, type ModelFinetune } from '../model/modelDefaults';
import { CancelledError } from '../pipeline/pipeline';
import type { PipelineCache } from '../pipeline/pipelineCache';
import { parsePromptFile, type PromptLine } from '../promptFile';
import { AFTER_DIR, BEFORE_DIR, FINETUNE_JSON, KEYS_FILE, REPORT_FILE } from '../record/files';
import { writeFinetuneReport } from '../report/finetuneReport';
import { inBatches, openPromptFile, sampleBatchSize, sampleRuns, type PromptFileSource, type SampleHooks } from './sampleRun';
import { writeRunRecord } from './saveRun';

export interface RunFinetuneRequest extends PromptFileSource {
  /** Prompts evaluated before and after but never trained on (another .prompt file). */
  heldOut?: { file: string; text: string };
  overrides?: { seed?: number; steps?: number; lr?: number; finetuneSteps?: number; normWeight?: number };
  /** The finetune rate and length the user set in the editor's settings (below overrides, above the model's). */
  userSettings?: ModelFinetune;
  runsDir: string;
}

export interface RunFinetuneHooks extends SampleHooks {
  onTrainingStep?(step: FinetuneStep, totalSteps: number): void;
  /**
   * Before each batch of before/after samples, sampled together on one side: they are samples `first` to
   * `first + samples.length - 1` (0-based) of `total`.
   */
  onSamples?(first: number, total: number, side: 'before' | 'after', samples: { group: PromptGroup; prompt: string; seed: number }[]): void;
}

export async function runFinetune(
  request: RunFinetuneRequest,
  pipelines: PipelineCache,
  hooks: RunFinetuneHooks = {},
): Promise<{ result: FinetuneRunResult; folder: string; id: string; report: string }> {
  // Before any training: a folder that cannot take the result fails now, not after the work is done.
  await prepareOutputFolder(request.runsDir);
  const opened = await openPromptFile(request, pipelines, request.overrides, hooks);
  const { pipeline, settings, seeds } = opened;
  const trainedLines = opened.parsed.prompts.filter((p) => p.objects.length >= 2);
  if (trainedLines.length === 0) {
    throw new InputError(`${request.file} has no prompt with two or more [marked] objects to finetune on`);
  }
  const heldOutLines = request.heldOut ? heldOutPrompts(request.heldOut) : [];
  const chosen = resolveFinetuneSettings({
    overrides: { lr: request.overrides?.lr, steps: request.overrides?.finetuneSteps, normWeight: request.overrides?.normWeight },
    userSettings: request.userSettings,
    model: await readModelFinetune(pipeline.model.root),
  });
  const options: FinetuneOptions = { ...defaultFinetuneOptions, x0Scale: x0ScaleFor(pipeline), ...chosen.values };

  hooks.onStatus?.(`Finetuning on ${trainedLines.length} prompt(s): ${describeFinetuneSettings(chosen)}…`);
  const trainer = await SepEnTrainer.create(pipeline);
  const trainStarted = performance.now();
  const trained = await trainer.train(
    trainedLines.map((p) => ({ text: p.text, objects: p.objects })),
    options,
    { signal: hooks.signal, onStep: (s) => hooks.onTrainingStep?.(s, options.steps) },
  );
  const trainMs = performance.now() - trainStarted;
  await trainer.release();
  if (trained.stopped) hooks.onStatus?.(`Training stopped early: ${trained.stopped}; keeping the last good keys`);

  const groups: [PromptGroup, PromptLine[], string][] = [
    ['trained', trainedLines, request.file],
    ['single-object', opened.parsed.prompts.filter((p) => p.objects.length < 2), request.file],
    ['held-out', heldOutLines, request.heldOut?.file ?? ''],
  ];
  const info: KeySetInfo = {
    baseModelId: pipeline.model.id,
    baseModelHash: pipeline.model.hash,
    prompts: trainedLines.map((p) => p.text),
    trainedLayers: trained.trainedLayers,
    steps: trained.curve.length,
    lr: options.lr,
    curve: trained.curve,
  };
  const comparisons: Comparison[] = [];
  const result: FinetuneRunResult = {
    options,
    optionSources: chosen.sources,
    trainedPrompts: info.prompts,
    trainedLayers: trained.trainedLayers,
    curve: trained.curve,
    ...(trained.stopped ? { stopped: trained.stopped } : {}),
    trainMs,
    comparisons,
  };
  const baseId = `${timestamp(new Date())}-finetune-${slug(trainedLines[0].text)}`;
  const keyBytes = encodeKeySet(trained.keys, trainer.layers, info);
  let keysWritten = false;
  let keptKeys: string | undefined;
  const written = await writeStagedFolder(
    request.runsDir,
    baseId,
    async (dir) => {
      await fs.writeFile(path.join(dir, KEYS_FILE), keyBytes);
      keysWritten = true;
      // Every prompt and seed, base keys then finetuned keys, a batch of them per UNet call (the keys are shared by a call).
      const cases = groups.flatMap(([group, lines, file]) => lines.flatMap((line) => seeds.map((seed) => ({ group, line, file, seed }))));
      const total = 2 * cases.length;
      let index = 0;
      // A batch's records are written while the next batch samples (as a seed list's are, see runPromptSeeds), and
      // listed in order; a failure waits for every record out before the staging folder goes.
      let writing: Promise<void> = Promise.resolve();
      const records: Promise<unknown>[] = [];
      const batches = inBatches(cases, sampleBatchSize(pipeline, settings));
      try {
        for (const [b, batch] of batches.entries()) {
          const items = batch.map(({ line, file, seed }) => ({ prompt: line, settings: { ...settings, seed }, file }));
          const samples = batch.map(({ group, line, seed }) => ({ group, prompt: line.text, seed }));
          hooks.onStatus?.(`Before/after: ${describeCases(batch)}`);
          hooks.onSamples?.(index, total, 'before', samples);
          const before = await sampleRuns(opened, items, hooks);
          index += batch.length;
          hooks.onSamples?.(index, total, 'after', samples);
          const after = await sampleRuns(opened, items, hooks, trained.keys);
          index += batch.length;
          const placement = { now: new Date(), idle: b === batches.length - 1 };
          const written = batch.map((_, place) => ({
            before: writeRunRecord(before[place], path.join(dir, BEFORE_DIR), { ...placement, place }),
            after: writeRunRecord(after[place], path.join(dir, AFTER_DIR), { ...placement, place }),
          }));
          records.push(...written.flatMap((w) => [w.before, w.after]));
          const listed = writing;
          writing = (async () => {
            await listed;
            for (const [i, { group, line, seed }] of batch.entries()) {
              const [beforeRun, afterRun] = [await written[i].before, await written[i].after];
              comparisons.push({
                group,
                prompt: line.text,
                seed,
                before: before[i],
                after: after[i],
                beforeFolder: path.relative(dir, beforeRun.folder),
                afterFolder: path.relative(dir, afterRun.folder),
                beforeFiles: beforeRun.record.files,
                afterFiles: afterRun.record.files,
              });
            }
          })();
          writing.catch(() => undefined); // handled: awaited below
        }
        await writing;
      } finally {
        await Promise.allSettled(records);
      }
      await fs.writeFile(path.join(dir, FINETUNE_JSON), JSON.stringify(finetuneJson(result, pipeline.model, KEYS_FILE), null, 2));
    },
    (dir, id) => writeFinetuneReport(result, dir, id),
    // Training finished: whatever fails now (a full disk, a cancel), the trained keys are kept.
    async (dir) => {
      keptKeys = await keepKeys(keysWritten ? path.join(dir, KEYS_FILE) : undefined, keyBytes, request.runsDir, baseId);
    },
  ).catch((error: unknown) => {
    throw afterTrainingError(error, keptKeys, hooks);
  });
  return { result, folder: written.folder, id: written.id, report: path.join(written.folder, REPORT_FILE) };
}

/**
 * Moves the finished keys out of a failing staging folder to `<runsDir>/<baseId>.keys.safetensors`
 * (a rename needs no free space), or writes them there when they never reached it. Undefined when
 * even that fails.
 */
async function keepKeys(staged: string | undefined, bytes: Uint8Array, runsDir: string, baseId: string): Promise<string | undefined> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const target = path.join(runsDir, `${attempt === 1 ? baseId : `${baseId}-${attempt}`}.keys.safetensors`);
    if (await pathExists(target)) continue;
    try {
      if (staged) await fs.rename(staged, target);
      else await fs.writeFile(target, bytes, { flag: 'wx' });
      return target;
    } catch {
      await fs.rm(target, { force: true }).catch(() => undefined);
      if (staged) staged = undefined; // the staged copy could not move: try writing a fresh one
      else return undefined;
    }
  }
  return undefined;
}

/** A failure after training, saying where the keys are (a cancel stays a cancel; its status says it). */
function afterTrainingError(error: unknown, keptKeys: string | undefined, hooks: RunFinetuneHooks): unknown {
  const kept = keptKeys ? `the trained keys are kept in ${keptKeys}` : 'the trained keys could not be saved either';
  if (error instanceof CancelledError) {
    hooks.onStatus?.(`Cancelled after training; ${kept}`);
    return error;
  }
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new OutputFolderError(`training finished, but its before/after runs failed (${reason}); ${kept}`);
}

/** `"a red circle", seed 3` for one case; `3 prompts and seeds ("a red circle", seeds 3, 5; …)` for several. */
function describeCases(cases: { line: PromptLine; seed: number }[]): string {
  const prompts = [...new Set(cases.map((c) => c.line.text))].map((text) => {
    const seeds = cases.filter((c) => c.line.text === text).map((c) => c.seed);
    return `"${text}", seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`;
  });
  return cases.length === 1 ? prompts[0] : `${cases.length} prompts and seeds (${prompts.join('; ')})`;
}

function heldOutPrompts(source: { file: string; text: string }): PromptLine[] {
  const parsed = parsePromptFile(source.text, source.file);
  const error = parsed.diagnostics.find((d) => d.severity === 'error');
  if (error) throw new InputError(error.message, { file: source.file, line: error.line, column: error.column });
  return parsed.prompts;
}
