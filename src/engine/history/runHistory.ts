// Reads the run folders under a runs directory (what `writeRunRecord` wrote) so editors can show
// earlier results next to a prompt. Run folders do not change once renamed into place, so each
// run.json is parsed once (again only if its mtime changes); the listing is re-read only when the
// runs folder's mtime changes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sweepStaging } from '../files/stagedFolder';
import { REPORT_FILE, RUN_JSON } from '../record/files';
import { parseRunRecord } from '../record/read';
import type { RunRecord } from '../record/schema';

/** What the history needs from one run.json; everything else in the record is left out. */
export interface RunSummary {
  id: string;
  /** Absolute run folder. */
  folder: string;
  /** ISO time the run was written ('' when the record has none). */
  createdAt: string;
  /** The prompt exactly as the tokenizer saw it (marks stripped, trimmed). */
  prompt: string;
  objects: { word: string; start: number; end: number }[];
  settings: { seed?: number; steps?: number; guidance?: number };
  model: { id: string; path: string; hash: string };
  words: { word: string; tokenIndices: number[]; isObject: boolean; isSpecial: boolean }[];
  tokens: { index: number; id: number; text: string }[];
  scores?: {
    overlap: number;
    activations: { word: string; value: number }[];
    weakest: string;
    totalLoss: number;
    pairs: { a: string; b: string; iou: number; ioaA: number; ioaB: number }[];
  };
  /** Paths relative to `folder`. */
  files: { image?: string; imageLarge?: string; maps: { word: string; heat: string; overlay: string }[]; overlap?: string };
  /** Absolute path of report.html. */
  report: string;
  /** A run sampled again to filter another run's maps: that run's folder name, and the maps' recipe. */
  filtered?: { from: string; recipe: string };
}

/** One word's view of a run: its overlay picture and the scores that mention it. */
export interface WordInRun {
  word: string;
  isObject: boolean;
  /** Absolute paths; absent when the run has no picture for the word. */
  overlay?: string;
  heat?: string;
  /** Separate-and-Enhance activation (marked objects only). */
  activation?: number;
  weakest: boolean;
  /** IoU (and intersection over this word's area) with every other marked object. */
  pairs: { other: string; iou: number; ioa: number }[];
}

interface DirCache {
  mtimeMs: number;
  runs: Promise<RunSummary[]>;
}

const listings = new Map<string, DirCache>();
/** Parsed records by run folder, with the run.json mtime they were read at (a re-created folder is read again). */
const records = new Map<string, { mtimeMs: number; summary: RunSummary | null }>();

/**
 * Every complete run under `runsDir`, newest first. Missing folder → []. Unreadable or foreign
 * entries are skipped. Cached until the folder's mtime changes (a new run renames into it).
 */
export async function findRuns(runsDir: string): Promise<RunSummary[]> {
  const dir = path.resolve(runsDir);
  let mtimeMs: number;
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) return [];
    mtimeMs = stat.mtimeMs;
  } catch {
    listings.delete(dir);
    return [];
  }
  const cached = listings.get(dir);
  if (cached && cached.mtimeMs === mtimeMs) return cached.runs;
  const runs = readRuns(dir);
  listings.set(dir, { mtimeMs, runs });
  try {
    return await runs;
  } catch (error) {
    listings.delete(dir);
    throw error;
  }
}

/** The newest run whose prompt is exactly `promptText` (compared after trimming), if any. */
export async function latestRunFor(runsDir: string, promptText: string): Promise<RunSummary | undefined> {
  const wanted = promptText.trim();
  // A filtered copy's maps are not the prompt's own: the hover shows the newest unfiltered run.
  return (await findRuns(runsDir)).find((run) => run.prompt.trim() === wanted && !run.filtered);
}

/** Forgets every cached listing and record (tests; a runs folder replaced wholesale). */
export function clearRunCache(): void {
  listings.clear();
  records.clear();
}

/** The word (case-insensitive, as run.json lists words in lower case) in a run, or undefined. */
export function wordInRun(run: RunSummary, word: string): WordInRun | undefined {
  const w = word.toLowerCase();
  const entry = run.words.find((x) => x.word.toLowerCase() === w);
  if (!entry) return undefined;
  const map = run.files.maps.find((m) => m.word.toLowerCase() === w);
  const activation = run.scores?.activations.find((a) => a.word.toLowerCase() === w)?.value;
  const pairs: WordInRun['pairs'] = [];
  for (const p of run.scores?.pairs ?? []) {
    if (p.a.toLowerCase() === w) pairs.push({ other: p.b, iou: p.iou, ioa: p.ioaA });
    else if (p.b.toLowerCase() === w) pairs.push({ other: p.a, iou: p.iou, ioa: p.ioaB });
  }
  return {
    word: entry.word,
    isObject: entry.isObject,
    ...(map ? { overlay: path.join(run.folder, map.overlay), heat: path.join(run.folder, map.heat) } : {}),
    ...(activation !== undefined ? { activation } : {}),
    weakest: run.scores !== undefined && run.scores.weakest.toLowerCase() === w,
    pairs,
  };
}

async function readRuns(dir: string): Promise<RunSummary[]> {
  // Opening a runs folder clears what crashed runs left in it (a day old, writer gone).
  await sweepStaging(dir);
  let entries: string[];
  try {
    entries = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  const runs = await Promise.all(entries.map((name) => readRun(path.join(dir, name))));
  return runs
    .filter((r): r is RunSummary => r !== null)
    .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1));
}

async function readRun(folder: string): Promise<RunSummary | null> {
  const file = path.join(folder, RUN_JSON);
  let mtimeMs: number;
  try {
    mtimeMs = (await fs.stat(file)).mtimeMs;
  } catch {
    return null; // not a run folder (yet)
  }
  const known = records.get(folder);
  if (known && known.mtimeMs === mtimeMs) return known.summary;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  const summary = parseRunJson(text, folder);
  records.set(folder, { mtimeMs, summary });
  return summary;
}

/**
 * A run.json's text to a summary; null when it is not a run record this reader understands (the
 * shared validating reader checks every field, so a crafted record is skipped, never half-read).
 */
export function parseRunJson(text: string, folder: string): RunSummary | null {
  let record: RunRecord;
  try {
    record = parseRunRecord(text, folder);
  } catch {
    return null;
  }
  const { settings = {}, model = {}, files = {}, scores, maps } = record;
  return {
    ...(maps?.filteredFrom !== undefined ? { filtered: { from: maps.filteredFrom, recipe: maps.recipe ?? '' } } : {}),
    id: record.id ?? path.basename(folder),
    folder,
    createdAt: record.createdAt ?? '',
    prompt: record.prompt,
    objects: record.objects ?? [],
    settings: {
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      ...(settings.steps !== undefined ? { steps: settings.steps } : {}),
      ...(settings.guidance !== undefined ? { guidance: settings.guidance } : {}),
    },
    model: { id: model.id ?? '', path: model.path ?? '', hash: model.hash ?? '' },
    words: record.words ?? [],
    tokens: record.tokens ?? [],
    ...(scores
      ? { scores: { overlap: scores.overlap, activations: scores.activations, weakest: scores.weakest, totalLoss: scores.totalLoss, pairs: scores.pairs } }
      : {}),
    files: {
      ...(files.image !== undefined ? { image: files.image } : {}),
      ...(files.imageLarge !== undefined ? { imageLarge: files.imageLarge } : {}),
      maps: files.maps ?? [],
      ...(files.overlap !== undefined ? { overlap: files.overlap } : {}),
    },
    report: path.join(folder, REPORT_FILE),
  };
}
