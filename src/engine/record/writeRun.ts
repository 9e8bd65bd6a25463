// Writes one run to a new folder. The folder is built under a hidden temporary name and renamed
// into place at the end, so a crashed or cancelled run never leaves a folder that looks complete,
// and an existing run is never overwritten. The run.json it writes comes back in memory, so what is
// built from it (the report, a finetune's report) never reads the folder again.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { slug, timestamp, writeStagedFolder } from '../files/stagedFolder';
import { renderPictures, type PictureSpec } from '../image/runPictures';
import { encodeSafetensors, type SafeTensor } from '../safetensors';
import { encodeAttentionStore } from './attentionStore';
import { ATTENTION_FILE, REPORT_FILE, RUN_IMAGE, RUN_IMAGE_LARGE, RUN_JSON, RUN_MAPS, RUN_PICTURES_DIR, RUN_RECORD_VERSION } from './files';
import type { RunResult, RunScores } from './runResult';
import type { RunFiles, RunJson } from './schema';

export interface WrittenRun {
  folder: string;
  id: string;
  /** Absolute path of its report. */
  report: string;
  /** Its run.json, as written. */
  record: RunJson;
}

/**
 * Writes the run's report into `dir` (REPORT_FILE) before the folder is renamed into place. `pictures`: the
 * record's PNG bytes by path in the folder, just written, so a report that inlines them need not read them back.
 */
export type RunReportWriter = (result: RunResult, record: RunJson, dir: string, pictures: ReadonlyMap<string, Uint8Array>) => Promise<void>;

/** `firstAttempt`: the name suffix to try first (see writeStagedFolder), for records written side by side. */
export async function writeRunFolder(result: RunResult, runsDir: string, writeReport: RunReportWriter, now = new Date(), firstAttempt = 1): Promise<WrittenRun> {
  let files: RunFiles | undefined;
  let pictures: ReadonlyMap<string, Uint8Array> = new Map();
  let record: RunJson | undefined;
  const { folder, id } = await writeStagedFolder(
    runsDir,
    `${timestamp(now)}-${slug(result.prompt)}`,
    async (dir) => {
      ({ files, pictures } = await writeFiles(result, dir));
    },
    async (dir, runId) => {
      record = runJson(result, runId, now, files as RunFiles);
      await fs.writeFile(path.join(dir, RUN_JSON), JSON.stringify(record, null, 2));
      await writeReport(result, record, dir, pictures);
    },
    undefined,
    firstAttempt,
  );
  return { folder, id, report: path.join(folder, REPORT_FILE), record: record as RunJson };
}

async function writeFiles(result: RunResult, dir: string): Promise<{ files: RunFiles; pictures: Map<string, Uint8Array> }> {
  await fs.mkdir(path.join(dir, RUN_PICTURES_DIR));
  const files: RunFiles = { image: RUN_IMAGE, imageLarge: RUN_IMAGE_LARGE, maps: [] };
  const maps: PictureSpec['maps'] = [];
  for (const [i, word] of result.words.entries()) {
    const name = `${String(i).padStart(2, '0')}-${slug(word.word)}`;
    const heat = `${RUN_PICTURES_DIR}/${name}.png`;
    const overlay = `${RUN_PICTURES_DIR}/${name}-overlay.png`;
    maps.push({ file: heat, kind: 'heat', map: word.map }, { file: overlay, kind: 'overlay', map: word.map });
    files.maps.push({ word: word.word, heat, overlay });
  }
  if (result.scores) {
    files.overlap = `${RUN_PICTURES_DIR}/overlap.png`;
    maps.push({ file: files.overlap, kind: 'heat', map: result.scores.overlapMap });
  }
  const pictures = renderPictures({ image: result.image, mapHeight: result.mapHeight, mapWidth: result.mapWidth, maps, imageFile: files.image, largeFile: files.imageLarge });
  // All settle before a failure is reported, so none is still writing when the staging folder is removed.
  const settled = await Promise.allSettled([
    ...pictures.map(([name, bytes]) => fs.writeFile(path.join(dir, name), bytes)),
    fs.writeFile(path.join(dir, RUN_MAPS), mapsSafetensors(result)),
    ...(result.attention ? [fs.writeFile(path.join(dir, ATTENTION_FILE), encodeAttentionStore(result.attention))] : []),
  ]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return { files, pictures: new Map(pictures) };
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

function runJson(result: RunResult, id: string, now: Date, files: RunFiles): RunJson {
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
      height: result.mapHeight,
      width: result.mapWidth,
      recipe: result.mapRecipe,
      attention: result.attention ? ATTENTION_FILE : undefined,
      filteredFrom: result.filteredFrom,
      timeline: result.timeline
        ? { timesteps: result.timeline.timesteps, height: result.timeline.height, width: result.timeline.width }
        : undefined,
    },
    words: result.words.map(({ word, tokenIndices, isObject, isSpecial }) => ({ word, tokenIndices, isObject, isSpecial })),
    layers: result.layers,
    scores: result.scores && scoresJson(result.scores),
    failure: result.failure,
    detection: result.detection,
    files,
    timings: result.timings,
  };
}

/** The scores without their arrays (the maps file holds those). */
function scoresJson({ overlapMap: _overlapMap, masks: _masks, objectMaps: _objectMaps, ...kept }: RunScores): RunJson['scores'] {
  return kept;
}
