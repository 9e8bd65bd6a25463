// Loads record folders back: every record through the checks of schema.ts, every file a record names
// kept inside its folder by real path, and a run's maps checked against its words and grid, so a
// crafted or damaged folder is an error naming the file, never a view that fails to draw.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { realPathWithin } from '../files/containment';
import { decodeSafetensors } from '../safetensors';
import { parseRecord, readRecord, RecordError, resolveInside } from './check';
import { COMPARE_JSON, FINETUNE_JSON, RUN_IMAGE, RUN_JSON, RUN_MAPS } from './files';
import {
  compareRecordFields,
  finetuneRecordFields,
  runRecordFields,
  type CompareRecord,
  type FinetuneRecord,
  type RunRecord,
} from './schema';

export function readRunRecord(folder: string): Promise<RunRecord> {
  return readRecord(path.join(folder, RUN_JSON), runRecordFields);
}

/** A run.json's text (already read, e.g. by a cache) checked as the record of `folder`. */
export function parseRunRecord(text: string, folder: string): RunRecord {
  return parseRecord(text, runRecordFields, path.join(folder, RUN_JSON));
}

export function readFinetuneRecord(folder: string): Promise<FinetuneRecord> {
  return readRecord(path.join(folder, FINETUNE_JSON), finetuneRecordFields);
}

export function readCompareRecord(folder: string): Promise<CompareRecord> {
  return readRecord(path.join(folder, COMPARE_JSON), compareRecordFields);
}

/** A file a record names, resolved and kept inside the record's folder by its real path (no symlink out). */
export async function fileIn(folder: string, relative: string, record: string): Promise<string> {
  return realPathWithin(resolveInside(folder, relative, record), [folder], `a file named by ${record}`);
}

/** A run folder read back whole: its record, its image's PNG bytes and its maps, sized as the record says. */
export interface LoadedRun {
  folder: string;
  record: RunRecord & { words: NonNullable<RunRecord['words']> };
  imagePng: Uint8Array;
  mapHeight: number;
  mapWidth: number;
  /** `[words, mapHeight, mapWidth]`. */
  wordMaps: Float32Array;
  overlapMap?: Float32Array;
  /** `[objects, mapHeight, mapWidth]`, 1 inside. */
  masks?: Uint8Array;
  objectMaps?: { height: number; width: number; data: Float32Array };
  timeline?: { steps: number; height: number; width: number; data: Float32Array };
}

/** A folder written by writeRunFolder (run.json, image.png, maps.safetensors). */
export async function readRunFolder(folder: string): Promise<LoadedRun> {
  const recordFile = path.join(folder, RUN_JSON);
  const record = await readRunRecord(folder);
  const { words } = record;
  if (!words) throw new RecordError(recordFile, 'has no "words": not a run record');
  const imagePng = await fs.readFile(await fileIn(folder, record.files?.image ?? RUN_IMAGE, recordFile));
  const mapsFile = await fileIn(folder, record.maps?.file ?? RUN_MAPS, recordFile);
  const maps = decodeSafetensors(await fs.readFile(mapsFile), mapsFile);
  const f32 = (name: string): Float32Array | undefined => {
    const t = maps.tensors.get(name);
    return t && t.data instanceof Float32Array ? t.data : undefined;
  };
  const wordMaps = f32('word_maps');
  if (!wordMaps) throw new RecordError(mapsFile, 'has no float32 word_maps');
  const shape = maps.tensors.get('word_maps')?.shape ?? [];
  const h = record.maps?.height ?? shape[1] ?? 0;
  const w = record.maps?.width ?? shape[2] ?? 0;
  if (wordMaps.length !== words.length * h * w) {
    throw new RecordError(mapsFile, `word_maps holds ${wordMaps.length} values, but ${recordFile} lists ${words.length} words on a ${h}x${w} grid`);
  }
  const sized = (name: string, values: Float32Array | undefined, per: number): Float32Array | undefined => {
    if (values && values.length % per !== 0) throw new RecordError(mapsFile, `${name} holds ${values.length} values, not whole ${h}x${w} maps`);
    return values;
  };
  const overlapMap = sized('overlap_map', f32('overlap_map'), h * w);
  const masks = sized('object_masks', f32('object_masks'), h * w);
  const timeline = f32('timeline');
  const objectMaps = f32('object_score_maps');
  const objectShape = maps.tensors.get('object_score_maps')?.shape;
  const timelineShape = maps.tensors.get('timeline')?.shape;
  return {
    folder,
    record: { ...record, words },
    imagePng,
    mapHeight: h,
    mapWidth: w,
    wordMaps,
    ...(overlapMap ? { overlapMap } : {}),
    ...(masks ? { masks: Uint8Array.from(masks, (v) => (v > 0.5 ? 1 : 0)) } : {}),
    ...(objectMaps && objectShape?.length === 3 ? { objectMaps: { height: objectShape[1], width: objectShape[2], data: objectMaps } } : {}),
    ...(timeline && timelineShape && timelineShape.length === 4 && timelineShape[1] === words.length
      ? { timeline: { steps: timelineShape[0], height: timelineShape[2], width: timelineShape[3], data: timeline } }
      : {}),
  };
}
