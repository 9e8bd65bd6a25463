// What a job may read and write when the path comes from a file (a run record) or a webview message
// rather than from the user: vscode-free, so the policy is unit-tested with the classes the host uses.
import * as path from 'node:path';
import { realPathWithin } from '../engine/files/containment';
import { RUN_JSON } from '../engine/record/files';
import { readRunRecord } from '../engine/record/read';
import { InputError } from '../engine/files/errors';

export interface WorkspaceAccess {
  /** vscode.workspace.isTrusted. */
  trusted: boolean;
  /** The workspace folders' paths. */
  folders: string[];
}

/**
 * `p` when the job may use it: anywhere in a trusted workspace; in an untrusted one only inside a
 * workspace folder by its real path (a symlink in the workspace leading out of it is refused).
 */
export async function allowedPath(p: string, access: WorkspaceAccess, what: string): Promise<string> {
  if (access.trusted) return p;
  await realPathWithin(p, access.folders, `${what} (untrusted workspace)`);
  return p;
}

/** Where a layer/head filter of a run comes from and goes: its .prompt file and line, its seed and steps. */
export interface FilterSource {
  file: string;
  /** 1-based line the record names (the prompt is looked up by text when it moved). */
  line: number;
  prompt: string;
  seed: number;
  steps: number;
  layers: { gridH: number; gridW: number }[];
  /** The runs folder the filtered run is written to: the one the filtered run lives in, never one a record names. */
  runsDir: string;
}

/** A run folder's record, read and checked, as a filter's source; its prompt file and runs folder checked against `access`. */
export async function filterSource(folder: string, access: WorkspaceAccess): Promise<FilterSource> {
  const record = await readRunRecord(folder);
  const { source, settings } = record;
  if (!source || settings?.seed === undefined || settings.steps === undefined) {
    throw new InputError(`${path.join(folder, RUN_JSON)} does not say which .prompt file, seed and steps made it`);
  }
  const runsDir = path.dirname(folder);
  await allowedPath(runsDir, access, 'the runs folder');
  await allowedPath(source.file, access, `the prompt file named by ${path.join(folder, RUN_JSON)}`);
  return {
    file: source.file,
    line: source.line,
    prompt: record.prompt,
    seed: settings.seed,
    steps: settings.steps,
    layers: record.layers ?? [],
    runsDir,
  };
}

/**
 * Whether the results panel may load `folder` because its webview (state or message) asked: only a
 * folder inside a workspace folder or one this window showed, by real path.
 */
export async function mayRestore(folder: string, access: WorkspaceAccess, shown: Iterable<string>): Promise<boolean> {
  try {
    await realPathWithin(folder, [...access.folders, ...shown], 'a folder the results view asked for');
    return true;
  } catch {
    return false;
  }
}
