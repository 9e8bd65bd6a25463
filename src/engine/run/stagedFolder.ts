// New output folders that appear complete or not at all: everything is written under a hidden
// temporary name, then renamed into place under a name no existing folder has. A crash or a cancel
// leaves at most a `.partial-*` folder, never one that looks finished, and nothing is overwritten.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface StagedFolder {
  folder: string;
  id: string;
}

/**
 * `fill(dir)` writes the content; `finish(dir, id)` writes what depends on the final name
 * (it may run again with another id when a concurrent run took the first name).
 */
export async function writeStagedFolder(
  parentDir: string,
  baseId: string,
  fill: (dir: string) => Promise<void>,
  finish: (dir: string, id: string) => Promise<void> = async () => undefined,
): Promise<StagedFolder> {
  await fs.mkdir(parentDir, { recursive: true });
  const staging = path.join(parentDir, `.partial-${randomBytes(6).toString('hex')}`);
  await fs.mkdir(staging);
  try {
    await fill(staging);
    for (let attempt = 1; ; attempt++) {
      const id = attempt === 1 ? baseId : `${baseId}-${attempt}`;
      const folder = path.join(parentDir, id);
      if (await pathExists(folder)) continue;
      await finish(staging, id);
      try {
        await fs.rename(staging, folder);
        return { folder, id };
      } catch (error) {
        // Lost a race with another run taking the same name: try the next suffix.
        if (!isExistsError(error) || attempt > 100) throw error;
      }
    }
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  }
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
