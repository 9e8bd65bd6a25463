// Writes one run to a new folder. The folder is built under a hidden temporary name and renamed
// into place at the end, so a crashed or cancelled run never leaves a folder that looks complete,
// and an existing run is never overwritten.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderPicturesOffThread, type PictureSpec } from '../image/runPictures';
import { REPORT_FILE, writeHtmlReport } from '../report/htmlReport';
import { encodeSafetensors, type SafeTensor } from '../safetensors';
import { ATTENTION_FILE, encodeAttentionStore } from './attentionStore';
import type { RunResult } from './runResult';
import { slug, timestamp, writeStagedFolder } from './stagedFolder';

/** Files every run folder holds; `run.json` documents the rest. */
export const RUN_JSON = 'run.json';
export const RUN_IMAGE = 'image.png';
export const RUN_MAPS = 'maps.safetensors';
export const RUN_RECORD_VERSION = 1;

export interface WrittenRun {
  folder: string;
  id: string;
  report: string;
}

export async function writeRunRecord(result: RunResult, runsDir: string, now = new Date()): Promise<WrittenRun> {
  let files: PictureFiles | undefined;
  const { folder, id } = await writeStagedFolder(
    runsDir,
    `${timestamp(now)}-${slug(result.prompt)}`,
    async (dir) => {
      files = await writeFiles(result, dir);
    },
    async (dir, runId) => {
      await fs.writeFile(path.join(dir, RUN_JSON), JSON.stringify(runJson(result, runId, now, files as PictureFiles), null, 2));
      await writeHtmlReport(result, dir, runId);
    },
  );
  return { folder, id, report: path.join(folder, REPORT_FILE) };
}

interface PictureFiles {
  image: string;
  imageLarge: string;
  maps: { word: string; heat: string; overlay: string }[];
  overlap?: string;
}

async function writeFiles(result: RunResult, dir: string): Promise<PictureFiles> {
  await fs.mkdir(path.join(dir, 'maps'));
  const files: PictureFiles = { image: RUN_IMAGE, imageLarge: 'image-large.png', maps: [] };
  const maps: PictureSpec['maps'] = [];
  for (const [i, word] of result.words.entries()) {
    const name = `${String(i).padStart(2, '0')}-${slug(word.word)}`;
    const heat = `maps/${name}.png`;
    const overlay = `maps/${name}-overlay.png`;
    maps.push({ file: heat, kind: 'heat', map: word.map }, { file: overlay, kind: 'overlay', map: word.map });
    files.maps.push({ word: word.word, heat, overlay });
  }
  if (result.scores) {
    files.overlap = 'maps/overlap.png';
    maps.push({ file: files.overlap, kind: 'heat', map: result.scores.overlapMap });
  }
  const pictures = renderPicturesOffThread({ image: result.image, mapHeight: result.mapHeight, mapWidth: result.mapWidth, maps, imageFile: files.image, largeFile: files.imageLarge });
  // All settle before a failure is reported, so none is still writing when the staging folder is removed.
  const settled = await Promise.allSettled([
    pictures.then((rendered) => Promise.all(rendered.map(([name, bytes]) => fs.writeFile(path.join(dir, name), bytes)))),
    fs.writeFile(path.join(dir, RUN_MAPS), mapsSafetensors(result)),
    ...(result.attention ? [fs.writeFile(path.join(dir, ATTENTION_FILE), encodeAttentionStore(result.attention))] : []),
  ]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return files;
}

/** All arrays of the run in one safetensors file (loadable with `safetensors.numpy.load_file`). */
function mapsSafetensors(result: RunResult): Uint8Array {
  const { mapHeight: h, mapWidth: w } = result;
  const wordMaps = new Float32Array(result.words.length * h * w);
  result.words.forEach((word, i) => wordMaps.set(word.map, i * h * w));
  const tensors = new Map<string, SafeTensor>([['word_maps', { dtype: 'F32', shape: [result.words.length, h, w], data: wordMaps }]]);
  if (result.scores) {
    tensors.set('overlap_map', { dtype: 'F32', shape: [h, w], data: result.scores.overlapMap });
    tensors.set('object_masks', { dtype: 'F32', shape: [result.scores.activations.length, h, w], data: Float32Array.from(result.scores.masks) });
    const objects = result.scores.objectMaps;
    if (objects) tensors.set('object_score_maps', { dtype: 'F32', shape: [result.scores.activations.length, objects.height, objects.width], data: objects.data });
  }
  if (result.timeline) {
    const t = result.timeline;
    const shape = [t.timesteps.length, result.words.length, t.height, t.width];
    tensors.set('timeline', { dtype: 'F32', shape, data: t.data });
  }
  return encodeSafetensors(tensors, { words: JSON.stringify(result.words.map((word) => word.word)) });
}

function runJson(result: RunResult, id: string, now: Date, files: PictureFiles): unknown {
  // The values stay a flat object; where each came from sits beside them.
  const { sources, ...settings } = result.settings;
  return {
    version: RUN_RECORD_VERSION,
    id,
    createdAt: now.toISOString(),
    source: result.source,
    prompt: result.prompt,
    objects: result.objects,
    settings,
    settingSources: sources,
    model: result.model,
    provider: result.provider,
    tokens: result.tokens,
    maps: {
      file: RUN_MAPS,
      // word_maps: float32 [words, height, width]; overlap_map: float32 [height, width];
      // timeline: float32 [steps, words, timelineHeight, timelineWidth] (raw attention probabilities).
      height: result.mapHeight,
      width: result.mapWidth,
      recipe: result.mapRecipe,
      // attention.safetensors: the words' raw attention per layer (float16), for filters that are views of this run.
      attention: result.attention ? ATTENTION_FILE : undefined,
      filteredFrom: result.filteredFrom,
      timeline: result.timeline
        ? { timesteps: result.timeline.timesteps, height: result.timeline.height, width: result.timeline.width }
        : undefined,
    },
    words: result.words.map(({ word, tokenIndices, isObject, isSpecial }) => ({ word, tokenIndices, isObject, isSpecial })),
    layers: result.layers,
    scores: result.scores && { ...result.scores, overlapMap: undefined, masks: undefined, objectMaps: undefined },
    failure: result.failure,
    detection: result.detection,
    files,
    timings: result.timings,
  };
}

