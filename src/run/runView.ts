// Converts engine runs (in memory, or as written on disk) into the webview's message form: pixels and
// maps as ArrayBuffers. Reading from disk lets the results panel reopen any run or finetune folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { encodePng } from '../engine/image/png';
import { decodeSafetensors } from '../engine/safetensors';
import type { RunResult } from '../engine/run/runResult';
import type { ComparisonView, CompareView, DetectionView, FailureView, LayerView, MapFilter, RunView, ScoresView, WordView } from '../protocol/messages';

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
    layers: result.layers.map(({ name, gridH, gridW, heads }) => ({ name, gridH, gridW, heads })),
    mapRecipe: result.mapRecipe,
    ...(filter ? { filter } : {}),
    ...(t ? { timeline: { steps: t.timesteps.length, height: t.height, width: t.width, data: bufferOf(t.data) } } : {}),
    ...(result.detection ? { detection: result.detection } : {}),
    totalMs: result.timings.totalMs,
  };
}

interface RunJson {
  id?: string;
  prompt: string;
  settings?: { seed?: number; steps?: number };
  model?: { id?: string };
  provider?: { name?: string };
  maps?: { file?: string; height?: number; width?: number; recipe?: string; timeline?: { timesteps?: number[]; height?: number; width?: number } };
  words?: WordView[];
  layers?: LayerView[];
  scores?: ScoresView;
  failure?: FailureView;
  detection?: DetectionView;
  files?: { image?: string };
  timings?: { totalMs?: number };
}

/** A run folder written by `writeRunRecord` (run.json, image.png, maps.safetensors) as a RunView. */
export async function loadRunView(folder: string): Promise<RunView> {
  const json = JSON.parse(await fs.readFile(path.join(folder, 'run.json'), 'utf8')) as RunJson;
  if (typeof json.prompt !== 'string' || !Array.isArray(json.words)) throw new Error(`${folder}/run.json is not a run record`);
  const image = await fs.readFile(path.join(folder, path.basename(json.files?.image ?? 'image.png')));
  const maps = decodeSafetensors(await fs.readFile(path.join(folder, path.basename(json.maps?.file ?? 'maps.safetensors'))), folder);
  const f32 = (name: string): Float32Array | undefined => {
    const t = maps.tensors.get(name);
    return t && t.data instanceof Float32Array ? t.data : undefined;
  };
  const wordMaps = f32('word_maps');
  if (!wordMaps) throw new Error(`${folder}/maps.safetensors has no word_maps`);
  const shape = maps.tensors.get('word_maps')?.shape ?? [];
  const h = json.maps?.height ?? shape[1] ?? 0;
  const w = json.maps?.width ?? shape[2] ?? 0;
  const overlap = f32('overlap_map');
  const masks = f32('object_masks');
  const timeline = f32('timeline');
  const timelineShape = maps.tensors.get('timeline')?.shape;
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
    words: json.words.map(({ word, tokenIndices, isObject, isSpecial }) => ({ word, tokenIndices, isObject, isSpecial })),
    wordMaps: bufferOf(wordMaps),
    overlapMap: bufferOf(overlap ?? new Float32Array(h * w)),
    scores: json.scores
      ? {
          overlap: json.scores.overlap,
          activations: json.scores.activations,
          weakest: json.scores.weakest,
          enhanceLoss: json.scores.enhanceLoss,
          totalLoss: json.scores.totalLoss,
          pairs: json.scores.pairs,
        }
      : undefined,
    ...(json.failure ? { failure: json.failure } : {}),
    ...(masks ? { masks: Uint8Array.from(masks, (v) => (v > 0.5 ? 1 : 0)).buffer } : {}),
    ...(Array.isArray(json.layers) ? { layers: json.layers.map(({ name, gridH, gridW, heads }) => ({ name, gridH, gridW, heads })) } : {}),
    ...(json.maps?.recipe ? { mapRecipe: json.maps.recipe } : {}),
    ...(timeline && timelineShape && timelineShape.length === 4
      ? { timeline: { steps: timelineShape[0], height: timelineShape[2], width: timelineShape[3], data: bufferOf(timeline) } }
      : {}),
    ...(json.detection ? { detection: json.detection } : {}),
    totalMs: json.timings?.totalMs ?? 0,
  };
}

interface FinetuneJson {
  options?: { steps?: number; lr?: number };
  curve?: { loss: number }[];
  trainedPrompts?: string[];
  comparisons: { group: string; prompt: string; seed: number; before: { folder: string }; after: { folder: string } }[];
}

interface CompareJson {
  prompt: string;
  keySet?: string;
  before: string;
  after: string;
}

/** Keeps a record's relative reference inside `folder`. */
function inside(folder: string, relative: string): string {
  const resolved = path.resolve(folder, relative);
  const rel = path.relative(folder, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${relative} points outside ${folder}`);
  return resolved;
}

/** Which comparison to show first: the first one of `prompt` (the cursor's), else the first trained one. */
export function initialComparison(comparisons: { prompt: string; group: string }[], prompt?: string): number {
  const exact = prompt === undefined ? -1 : comparisons.findIndex((c) => c.prompt.trim() === prompt.trim());
  if (exact >= 0) return exact;
  return Math.max(0, comparisons.findIndex((c) => c.group === 'trained'));
}

/** A finetune folder (finetune.json) or a compare folder (compare.json) as a CompareView. */
export async function loadCompareView(folder: string, prompt?: string): Promise<CompareView> {
  const id = path.basename(folder);
  const finetune = await readJson<FinetuneJson>(path.join(folder, 'finetune.json'));
  if (finetune) {
    const comparisons: ComparisonView[] = [];
    for (const c of finetune.comparisons) {
      comparisons.push({
        prompt: c.prompt,
        seed: c.seed,
        group: c.group,
        before: await loadRunView(inside(folder, c.before.folder)),
        after: await loadRunView(inside(folder, c.after.folder)),
      });
    }
    return {
      id,
      folder,
      kind: 'finetune',
      title: `Finetune: ${finetune.curve?.length ?? 0} steps, lr ${finetune.options?.lr ?? '?'}`,
      curve: (finetune.curve ?? []).map((s) => s.loss),
      comparisons,
      initial: initialComparison(comparisons, prompt),
    };
  }
  const compare = await readJson<CompareJson>(path.join(folder, 'compare.json'));
  if (!compare) throw new Error(`${folder} holds neither finetune.json nor compare.json`);
  const before = await loadRunView(inside(folder, compare.before));
  const after = await loadRunView(inside(folder, compare.after));
  const keySet = compare.keySet ? path.basename(path.dirname(compare.keySet)) : undefined;
  return {
    id,
    folder,
    kind: 'compare',
    title: keySet ? `Compare with ${keySet}` : 'Compare',
    ...(keySet ? { keySet } : {}),
    comparisons: [{ prompt: compare.prompt, seed: before.seed, group: 'compare', before, after }],
    initial: 0,
  };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
