// Containment by real path: a path that comes from a file (a model's external data, a run record, a
// key set) or from a webview message is followed through every symlink before it is compared with the
// folder it must stay in, so a link planted inside that folder cannot lead outside it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors';

export class ContainmentError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ContainmentError';
  }
}

/** Is `child` the folder `parent` or inside it (both absolute and already resolved)? */
export function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The real path of `p` with every symlink resolved. A path that does not exist yet (a runs folder
 * to create) resolves its nearest existing ancestor and keeps the rest as written.
 */
export async function realPathOf(p: string): Promise<string> {
  const absolute = path.resolve(p);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      const real = await fs.realpath(existing);
      return path.join(real, ...missing.reverse());
    } catch (error) {
      const parent = path.dirname(existing);
      if (parent === existing || (error as NodeJS.ErrnoException).code !== 'ENOENT') return absolute;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * `p`'s real path when it lies inside one of `roots` (their real paths too), else a ContainmentError
 * naming `what` (e.g. "the prompt file of runs/x/run.json"), the path and where it really leads.
 */
export async function realPathWithin(p: string, roots: string[], what: string): Promise<string> {
  const real = await realPathOf(p);
  const realRoots = await Promise.all(roots.map(realPathOf));
  if (realRoots.some((root) => isWithin(real, root))) return real;
  const leads = real === path.resolve(p) ? '' : ` (it leads to ${real})`;
  const where = roots.length === 0 ? 'no folder is allowed' : `allowed: ${roots.join(', ')}`;
  throw new ContainmentError(`${what} ${p} is outside the folders it may use${leads}; ${where}`);
}
