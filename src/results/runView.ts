// Projects engine runs (in memory, or as the record module reads them back from disk) into the webview's
// message form: pixels and maps as ArrayBuffers. Reading from disk lets the results panel reopen any run
// or finetune folder. No vscode API: unit-tested as is.
import * as path from 'node:path';
import { pathExists } from '../engine/files/stagedFolder';
import { encodePng } from '../engine/image/png';
import { COMPARE_JSON, FINETUNE_JSON } from '../engine/record/files';
import { fileIn, readCompareRecord, readFinetuneRecord, readRunFolder } from '../engine/record/read';
import type { RunResult } from '../engine/record/runResult';
import { keySetName } from '../shared/keySetName';
import type { ComparisonView, CompareView, MapFilter, RunView } from '../shared/protocol';

function bufferOf(bytes: Uint8Array | Float32Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function toRunView(result: RunResult, written: { id: string; folder: string }, filter?: MapFilter): RunView {
  const { mapHeight: h, mapWidth: w } = result;
  const wordMaps = new Float32Array(result.words.length * h * w);
  result.words.forEach((word, i) => wordMaps.set(word.map, i * h * w));
  const s = result.scores;
  const t = result.timeline;
  return {
    runId: written.id,
    runFolder: written.folder,
    prompt: result.prompt,
    model: result.model.id,
    provider: result.provider.name,
    seed: result.settings.seed,
    steps: result.settings.steps,
    imagePng: bufferOf(encodePng(result.image)),
    mapHeight: h,
    mapWidth: w,
    words: result.words.map(({ word, tokenIndices, isObject, isSpecial }) => ({ word, tokenIndices, isObject, isSpecial })),
    wordMaps: wordMaps.buffer,
    overlapMap: (s ? Float32Array.from(s.overlapMap) : new Float32Array(h * w)).buffer,
    scores: s && {
      overlap: s.overlap,
      activations: s.activations,
      weakest: s.weakest,
      enhanceLoss: s.enhanceLoss,
      totalLoss: s.totalLoss,
      pairs: s.pairs,
    },
    ...(result.failure ? { failure: result.failure } : {}),
    ...(s?.masks ? { masks: bufferOf(s.masks) } : {}),
    ...(s?.objectMaps ? { objectMaps: { height: s.objectMaps.height, width: s.objectMaps.width, data: bufferOf(s.objectMaps.data) } } : {}),
    layers: result.layers.map(({ name, gridH, gridW, heads }) => ({ name, gridH, gridW, heads })),
    mapRecipe: result.mapRecipe,
    ...(filter ? { filter } : {}),
    ...(t ? { timeline: { steps: t.timesteps.length, height: t.height, width: t.width, data: bufferOf(t.data) } } : {}),
    ...(result.detection ? { detection: result.detection } : {}),
    totalMs: result.timings.totalMs,
  };
}

/**
 * A run folder written by writeRunFolder as a RunView. The record module checks the record, and its
 * maps against its words and grid; the view only projects what it read.
 */
export async function loadRunView(folder: string): Promise<RunView> {
  const run = await readRunFolder(folder);
  const { record } = run;
  const { mapHeight: h, mapWidth: w } = run;
  const scores = record.scores;
  return {
    runId: record.id ?? path.basename(folder),
    runFolder: folder,
    prompt: record.prompt,
    model: record.model?.id ?? '',
    provider: record.provider?.name ?? '',
    seed: record.settings?.seed ?? 0,
    steps: record.settings?.steps ?? 0,
    imagePng: bufferOf(run.imagePng),
    mapHeight: h,
    mapWidth: w,
    words: record.words,
    wordMaps: bufferOf(run.wordMaps),
    overlapMap: bufferOf(run.overlapMap ?? new Float32Array(h * w)),
    scores: scores && {
      overlap: scores.overlap,
      activations: scores.activations,
      weakest: scores.weakest,
      enhanceLoss: scores.enhanceLoss,
      totalLoss: scores.totalLoss,
      pairs: scores.pairs,
    },
    ...(record.failure ? { failure: record.failure } : {}),
    ...(run.masks ? { masks: bufferOf(run.masks) } : {}),
    ...(run.objectMaps ? { objectMaps: { height: run.objectMaps.height, width: run.objectMaps.width, data: bufferOf(run.objectMaps.data) } } : {}),
    ...(record.layers ? { layers: record.layers } : {}),
    ...(record.maps?.recipe ? { mapRecipe: record.maps.recipe } : {}),
    ...(run.timeline ? { timeline: { ...run.timeline, data: bufferOf(run.timeline.data) } } : {}),
    ...(record.detection ? { detection: record.detection } : {}),
    totalMs: record.timings?.totalMs ?? 0,
  };
}

/** Which comparison to show first: the first one of `prompt` (the cursor's), else the first trained one. */
export function initialComparison(comparisons: { prompt: string; group: string }[], prompt?: string): number {
  const exact = prompt === undefined ? -1 : comparisons.findIndex((c) => c.prompt.trim() === prompt.trim());
  if (exact >= 0) return exact;
  return Math.max(0, comparisons.findIndex((c) => c.group === 'trained'));
}

/** What the key set in `folder` was trained on, for its name; none when its finetune.json is gone or unreadable. */
async function trainedPrompts(folder: string): Promise<string[]> {
  try {
    return (await readFinetuneRecord(folder)).trainedPrompts;
  } catch {
    return [];
  }
}

/** A finetune folder (finetune.json) or a compare folder (compare.json) as a CompareView. */
export async function loadCompareView(folder: string, prompt?: string): Promise<CompareView> {
  const id = path.basename(folder);
  const finetuneFile = path.join(folder, FINETUNE_JSON);
  if (await pathExists(finetuneFile)) {
    const finetune = await readFinetuneRecord(folder);
    const comparisons: ComparisonView[] = [];
    for (const c of finetune.comparisons) {
      comparisons.push({
        prompt: c.prompt,
        seed: c.seed,
        group: c.group,
        before: await loadRunView(await fileIn(folder, c.before.folder, finetuneFile)),
        after: await loadRunView(await fileIn(folder, c.after.folder, finetuneFile)),
      });
    }
    return {
      id,
      folder,
      kind: 'finetune',
      // The finetune's folder holds its key set: named as the run panel names it.
      title: `Finetune on ${keySetName(finetune.trainedPrompts, id)}: ${finetune.curve.length} steps, lr ${finetune.options.lr}`,
      titleTooltip: id,
      curve: finetune.curve.map((s) => s.loss),
      comparisons,
      initial: initialComparison(comparisons, prompt),
    };
  }
  const compareFile = path.join(folder, COMPARE_JSON);
  if (!(await pathExists(compareFile))) throw new Error(`${folder} holds neither finetune.json nor compare.json`);
  const compare = await readCompareRecord(folder);
  const before = await loadRunView(await fileIn(folder, compare.before, compareFile));
  const after = await loadRunView(await fileIn(folder, compare.after, compareFile));
  const keySet = compare.keySet ? path.basename(path.dirname(compare.keySet)) : undefined;
  return {
    id,
    folder,
    kind: 'compare',
    title: compare.keySet && keySet ? `Compare with ${keySetName(await trainedPrompts(path.dirname(compare.keySet)), keySet)}` : 'Compare',
    titleTooltip: keySet ? `key set ${keySet}\ncompared in ${id}` : id,
    ...(keySet ? { keySet } : {}),
    comparisons: [{ prompt: compare.prompt, seed: before.seed, group: 'compare', before, after }],
    initial: 0,
  };
}
