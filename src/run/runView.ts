// Converts engine runs (in memory, or as written on disk) into the webview's message form: pixels and
// maps as ArrayBuffers. Reading from disk lets the results panel reopen any run or finetune folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { keySetName } from '../shared/keySetName';
import { encodePng } from '../engine/image/png';
import { decodeSafetensors } from '../engine/safetensors';
import type { RunResult } from '../engine/run/runResult';
import { realPathWithin } from '../engine/run/containment';
import { readCompareRecord, readFinetuneRecord, readRunRecord, RecordError, resolveInside } from '../engine/run/recordReader';
import { RUN_IMAGE, RUN_JSON, RUN_MAPS } from '../engine/run/runRecord';
import { pathExists } from '../engine/run/stagedFolder';
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

/** A file a record names, resolved and kept inside the record's folder by its real path (no symlink out). */
async function fileIn(folder: string, relative: string, record: string): Promise<string> {
  return realPathWithin(resolveInside(folder, relative, record), [folder], `a file named by ${record}`);
}

/**
 * A run folder written by `writeRunRecord` (run.json, image.png, maps.safetensors) as a RunView. The
 * record goes through the shared validating reader, and the maps must match its words and grid, so a
 * crafted or damaged record is an error naming the file, never a view that fails to draw.
 */
export async function loadRunView(folder: string): Promise<RunView> {
  const record = path.join(folder, RUN_JSON);
  const json = await readRunRecord(folder);
  if (!json.words) throw new RecordError(record, 'has no "words": not a run record');
  const image = await fs.readFile(await fileIn(folder, json.files?.image ?? RUN_IMAGE, record));
  const mapsFile = await fileIn(folder, json.maps?.file ?? RUN_MAPS, record);
  const maps = decodeSafetensors(await fs.readFile(mapsFile), mapsFile);
  const f32 = (name: string): Float32Array | undefined => {
    const t = maps.tensors.get(name);
    return t && t.data instanceof Float32Array ? t.data : undefined;
  };
  const wordMaps = f32('word_maps');
  if (!wordMaps) throw new RecordError(mapsFile, 'has no float32 word_maps');
  const shape = maps.tensors.get('word_maps')?.shape ?? [];
  const h = json.maps?.height ?? shape[1] ?? 0;
  const w = json.maps?.width ?? shape[2] ?? 0;
  if (wordMaps.length !== json.words.length * h * w) {
    throw new RecordError(mapsFile, `word_maps holds ${wordMaps.length} values, but ${record} lists ${json.words.length} words on a ${h}x${w} grid`);
  }
  const sized = (name: string, values: Float32Array | undefined, per: number): Float32Array | undefined => {
    if (values && values.length % per !== 0) throw new RecordError(mapsFile, `${name} holds ${values.length} values, not whole ${h}x${w} maps`);
    return values;
  };
  const overlap = sized('overlap_map', f32('overlap_map'), h * w);
  const masks = sized('object_masks', f32('object_masks'), h * w);
  const timeline = f32('timeline');
  const objectMaps = f32('object_score_maps');
  const objectShape = maps.tensors.get('object_score_maps')?.shape;
  const timelineShape = maps.tensors.get('timeline')?.shape;
  const scores = json.scores;
  return {
    runId: json.id ?? path.basename(folder),
    runFolder: folder,
    prompt: json.prompt,
    model: json.model?.id ?? '',
    provider: json.provider?.name ?? '',
    seed: json.settings?.seed ?? 0,
    steps: json.settings?.steps ?? 0,
    imagePng: bufferOf(image),
    mapHeight: h,
    mapWidth: w,
    words: json.words,
    wordMaps: bufferOf(wordMaps),
    overlapMap: bufferOf(overlap ?? new Float32Array(h * w)),
    scores: scores && {
      overlap: scores.overlap,
      activations: scores.activations,
      weakest: scores.weakest,
      enhanceLoss: scores.enhanceLoss,
      totalLoss: scores.totalLoss,
      pairs: scores.pairs,
    },
    ...(json.failure ? { failure: json.failure } : {}),
    ...(masks ? { masks: Uint8Array.from(masks, (v) => (v > 0.5 ? 1 : 0)).buffer } : {}),
    ...(objectMaps && objectShape?.length === 3 ? { objectMaps: { height: objectShape[1], width: objectShape[2], data: bufferOf(objectMaps) } } : {}),
    ...(json.layers ? { layers: json.layers } : {}),
    ...(json.maps?.recipe ? { mapRecipe: json.maps.recipe } : {}),
    ...(timeline && timelineShape && timelineShape.length === 4 && timelineShape[1] === json.words.length
      ? { timeline: { steps: timelineShape[0], height: timelineShape[2], width: timelineShape[3], data: bufferOf(timeline) } }
      : {}),
    ...(json.detection ? { detection: json.detection } : {}),
    totalMs: json.timings?.totalMs ?? 0,
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
  const finetuneFile = path.join(folder, 'finetune.json');
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
  const compareFile = path.join(folder, 'compare.json');
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
