// New output folders that appear complete or not at all: everything is written under a hidden
// temporary name, then renamed into place under a name no existing folder has. A crash or a cancel
// leaves at most a `.partial-*` folder, never one that looks finished, and nothing is overwritten;
// such leftovers are swept once a day old and their writer is gone (sweepStaging).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors';

/** Staging folders are named `.partial-<pid>-<random>`: the pid tells a sweep whether its writer may still be alive. */
const STAGING_PREFIX = '.partial-';
/** A staging folder untouched this long, whose writer is gone, is a crash's leftover. */
export const STALE_STAGING_MS = 24 * 60 * 60 * 1000;

/** The output folder cannot be written: named, with the reason, before any work starts or after it failed. */
export class OutputFolderError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

export interface StagedFolder {
  folder: string;
  id: string;
}

/**
 * `fill(dir)` writes the content; `finish(dir, id)` writes what depends on the final name
 * (it may run again with another id when a concurrent run took the first name). The name is `baseId`, else
 * `baseId-2`, `-3`…: the first free one from `firstAttempt` (folders written side by side each start at their
 * own number, so they are named in the order they were asked for, not the order they finish).
 */
export async function writeStagedFolder(
  parentDir: string,
  baseId: string,
  fill: (dir: string) => Promise<void>,
  finish: (dir: string, id: string) => Promise<void> = async () => undefined,
  /** Runs on a failure before the staging folder is removed: moves out what must survive it. */
  rescue?: (dir: string) => Promise<void>,
  firstAttempt = 1,
): Promise<StagedFolder> {
  await fs.mkdir(parentDir, { recursive: true });
  const staging = path.join(parentDir, `${STAGING_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  await fs.mkdir(staging);
  try {
    await fill(staging);
    for (let attempt = firstAttempt; ; attempt++) {
      const id = attempt === 1 ? baseId : `${baseId}-${attempt}`;
      const folder = path.join(parentDir, id);
      if (await pathExists(folder)) continue;
      await finish(staging, id);
      try {
        await fs.rename(staging, folder);
        return { folder, id };
      } catch (error) {
        // Lost a race with another run taking the same name: try the next suffix.
        if (!isExistsError(error) || attempt > firstAttempt + 100) throw error;
      }
    }
  } catch (error) {
    try {
      await rescue?.(staging);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    throw error;
  }
}

/**
 * Checks, before any sampling or training, that `dir` (created if missing) takes a new file, so a
 * job never finds out only at the end; then sweeps stale staging folders out of it.
 */
export async function prepareOutputFolder(dir: string, now = Date.now()): Promise<void> {
  const probe = path.join(dir, `${STAGING_PREFIX}${process.pid}-check-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(probe, 'write check', { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new OutputFolderError(`the output folder ${dir} cannot be written (${code}); choose another (promptLens.runsFolder, or --out on the command line)`);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
  await sweepStaging(dir, now);
}

/**
 * Removes `.partial-*` folders a crashed or killed run left in `dir`: only those untouched for a day
 * (their newest entry included) whose writing process, named in the folder's name, is not running.
 * Returns the removed names. Never throws: a sweep is housekeeping.
 */
export async function sweepStaging(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.startsWith(STAGING_PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const folder = path.join(dir, name);
    try {
      if (writerAlive(name)) continue;
      if (now - (await newestChange(folder, 3)) < STALE_STAGING_MS) continue;
      await fs.rm(folder, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Whether the process that named this staging folder (`.partial-<pid>-…`) is running on this machine. */
function writerAlive(name: string): boolean {
  const pid = Number(/^\.partial-(\d+)-/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The newest modification time in `p` down to `depth` levels (a live writer touches its newest files). */
async function newestChange(p: string, depth: number): Promise<number> {
  const stat = await fs.lstat(p);
  let newest = stat.mtimeMs;
  if (!stat.isDirectory() || depth === 0) return newest;
  for (const entry of await fs.readdir(p)) newest = Math.max(newest, await newestChange(path.join(p, entry), depth - 1));
  return newest;
}

/** `20261127-074103`: sorts by time, readable, valid on every file system. */
export function timestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'run';
}

/** Whether anything is at `p` (a file or folder); used before writing so nothing is overwritten. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

function isExistsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EEXIST' || code === 'ENOTEMPTY';
}
