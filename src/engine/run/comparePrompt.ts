// Compare: one prompt sampled with the base model's keys and with a finetuned key set, same seed,
// written side by side (before/ and after/ run records) into a new folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../files/errors';
import { prepareOutputFolder, slug, timestamp, writeStagedFolder } from '../files/stagedFolder';
import { loadKeySet } from '../finetune/keySet';
import { loadOriginalKeys } from '../onnx/instrument';
import type { PipelineCache } from '../pipeline/pipelineCache';
import { AFTER_DIR, BEFORE_DIR, COMPARE_JSON } from '../record/files';
import type { RunResult } from '../record/runResult';
import type { CompareRecord } from '../record/schema';
import { openPromptFile, sampleRun, type PromptFileSource, type SampleHooks } from './sampleRun';
import { writeRunRecord } from './saveRun';

export interface ComparePromptRequest extends PromptFileSource {
  /** 0-based line of the prompt (a non-prompt line takes the next prompt). */
  line: number;
  keySetFile: string;
  runsDir: string;
  overrides?: { seed?: number; steps?: number };
}

export interface CompareResult {
  before: RunResult;
  after: RunResult;
  folder: string;
  id: string;
  beforeFolder: string;
  afterFolder: string;
}

export async function comparePrompt(request: ComparePromptRequest, pipelines: PipelineCache, hooks: SampleHooks = {}): Promise<CompareResult> {
  await prepareOutputFolder(request.runsDir);
  const opened = await openPromptFile(request, pipelines, request.overrides, hooks);
  const prompt = opened.parsed.prompts.find((p) => p.line >= request.line);
  if (!prompt) throw new InputError(`Line ${request.line + 1} of ${request.file} is not a prompt and no prompt follows it`);
  const { pipeline } = opened;
  const base = await loadOriginalKeys(pipeline.instrumented);
  const { keys } = await loadKeySet(request.keySetFile, base, pipeline.instrumented.layers, pipeline.model);
  const before = await sampleRun(opened, prompt, opened.settings, request.file, hooks);
  const after = await sampleRun(opened, prompt, opened.settings, request.file, hooks, keys);
  let beforeFolder = '';
  let afterFolder = '';
  const written = await writeStagedFolder(request.runsDir, `${timestamp(new Date())}-compare-${slug(prompt.text)}`, async (dir) => {
    beforeFolder = (await writeRunRecord(before, path.join(dir, BEFORE_DIR))).folder;
    afterFolder = (await writeRunRecord(after, path.join(dir, AFTER_DIR))).folder;
    const record: CompareRecord = { prompt: prompt.text, keySet: request.keySetFile, before: path.relative(dir, beforeFolder), after: path.relative(dir, afterFolder) };
    await fs.writeFile(path.join(dir, COMPARE_JSON), JSON.stringify(record, null, 2));
  });
  // The staged folder was renamed: point at the final locations.
  const relocate = (p: string): string => path.join(written.folder, path.relative(path.dirname(path.dirname(p)), p));
  return { before, after, folder: written.folder, id: written.id, beforeFolder: relocate(beforeFolder), afterFolder: relocate(afterFolder) };
}
