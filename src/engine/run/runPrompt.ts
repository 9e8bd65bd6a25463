// One run from a .prompt file: open it, pick the prompt, sample with attention capture, and write
// the run record. Shared by the extension and the CLI.
import * as path from 'node:path';
import type { SelectionOptions } from '../attention';
import { CancelledError } from '../pipeline/pipeline';
import type { PipelineCache } from '../pipeline/pipelineCache';
import type { PromptLine } from '../promptFile';
import { InputError } from '../files/errors';
import type { WrittenRun } from '../record/writeRun';
import { writeRunRecord } from './saveRun';
import type { RunResult } from '../record/runResult';
import { prepareOutputFolder } from '../files/stagedFolder';
import { inBatches, openPromptFile, sampleBatchSize, sampleRuns, type PromptFileSource, type SampleHooks } from './sampleRun';

export interface RunPromptRequest extends PromptFileSource {
  /** 0-based line of the prompt; a non-prompt line runs the next prompt below it. Default: the first prompt. */
  line?: number;
  overrides?: { seed?: number; steps?: number };
  /** Layers, grids, heads and steps the display maps aggregate (scores always use S&E's own). */
  selection?: SelectionOptions;
  /** The run whose maps this one filters by sampling again (its folder), recorded as `filteredFrom`. */
  filteredFrom?: string;
  runsDir: string;
}

/** One run of the prompt: the first seed of the file's list, or the override's. */
export async function runPrompt(
  request: RunPromptRequest,
  pipelines: PipelineCache,
  hooks: SampleHooks = {},
): Promise<PromptRun> {
  const [first] = await runPromptSeeds(request, pipelines, hooks, { limit: 1 });
  return first;
}

export interface PromptRun {
  result: RunResult;
  written: WrittenRun;
}

/**
 * A run of the prompt for every seed of the file's list (`seed: [1, 2, 3]`; the override's one when given), in
 * order, each written as its own record: composition failures depend on the seed. The seeds are sampled in
 * batches (one UNet call per step carries several, see sampleBatchSize), and a batch's records are written once
 * it is sampled: a cancel drops the batch in flight and keeps the records before it. `limit` caps the count;
 * `onWritten` hears of each record as soon as it is written.
 */
export async function runPromptSeeds(
  request: RunPromptRequest,
  pipelines: PipelineCache,
  hooks: SampleHooks = {},
  options: { limit?: number; onWritten?(run: PromptRun, index: number, of: number): void } = {},
): Promise<PromptRun[]> {
  await prepareOutputFolder(request.runsDir);
  const opened = await openPromptFile(request, pipelines, request.overrides, hooks);
  const prompt = pickPrompt(opened.parsed.prompts, request.line, request.file);
  const seeds = opened.seeds.slice(0, options.limit ?? Infinity);
  const runs: PromptRun[] = [];
  const writeBatch = async (sampled: RunResult[], idle: boolean): Promise<void> => {
    hooks.onStatus?.(sampled.length === 1 ? 'Writing the run record…' : `Writing ${sampled.length} run records…`);
    // All of the batch go to the record threads at once, named in seed order; each is reported once written.
    const now = new Date();
    const records = sampled.map((result, place) => {
      const recorded = request.filteredFrom ? { ...result, filteredFrom: path.basename(request.filteredFrom) } : result;
      return { recorded, written: writeRunRecord(recorded, request.runsDir, { now, place, idle }) };
    });
    try {
      for (const { recorded, written } of records) {
        const run = { result: recorded, written: await written };
        runs.push(run);
        options.onWritten?.(run, runs.length - 1, seeds.length);
      }
    } finally {
      // A failed record fails the job once none of its batch is still writing.
      await Promise.allSettled(records.map((r) => r.written));
    }
  };
  // A batch's records are written while the next batch samples (on the record threads, see saveRun.ts), one
  // batch behind at most; a failed or cancelled batch still waits for the records before it.
  let writing: Promise<void> = Promise.resolve();
  let sampledBefore = 0;
  try {
    const batches = inBatches(seeds, sampleBatchSize(opened.pipeline, opened.settings));
    for (const [b, batch] of batches.entries()) {
      if (seeds.length > 1) hooks.onStatus?.(`${describeBatch(batch, sampledBefore, seeds.length)}…`);
      sampledBefore += batch.length;
      const items = batch.map((seed) => ({ prompt, settings: { ...opened.settings, seed }, file: request.file }));
      const sampled = await sampleRuns(opened, items, hooks, undefined, { selection: request.selection, storeAttention: true });
      await writing;
      // A cancel while the records before were written drops this batch too, as if it were still sampling.
      if (hooks.signal?.aborted) throw new CancelledError();
      writing = writeBatch(sampled, b === batches.length - 1);
      writing.catch(() => undefined); // handled: awaited before the next batch's records or at the end
    }
  } catch (error) {
    await writing.catch(() => undefined);
    throw error;
  }
  await writing;
  return runs;
}

/** "Seed 8 (3 of 3)" or "Seeds 3, 5 (1–2 of 3)": a batch of seeds, `before` seeds after the first. */
function describeBatch(batch: number[], before: number, of: number): string {
  const place = batch.length === 1 ? `${before + 1}` : `${before + 1}–${before + batch.length}`;
  return `${batch.length === 1 ? 'Seed' : 'Seeds'} ${batch.join(', ')} (${place} of ${of})`;
}

function pickPrompt(prompts: PromptLine[], line: number | undefined, file: string): PromptLine {
  if (prompts.length === 0) throw new InputError(`${file} has no prompt lines (only front matter, comments or blank lines)`);
  if (line === undefined) return prompts[0];
  const exact = prompts.find((p) => p.line === line) ?? prompts.find((p) => p.line > line);
  if (!exact) throw new InputError(`Line ${line + 1} of ${file} is not a prompt and no prompt follows it`);
  return exact;
}
