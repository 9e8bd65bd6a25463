/**
 * Where instrumented models are kept (beside the original when its folder is writable, else in a per-user cache
 * folder), how they are named and fingerprinted, and crash-safe writes.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, copyFile, link, mkdir, open, realpath, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';

/** Bump when the instrumented graph or manifest changes, so stale caches are not reused. */
export const INSTRUMENTER_VERSION = 1;

/** Files up to this size are identified by content; larger ones by size and mtime (hashing gigabytes per run is slow). */
const CONTENT_HASH_LIMIT = 64 * 1024 * 1024;

export interface CacheLocation {
  /** Per-user folder for the copies of models whose own folder is not writable (a read-only install). */
  userDir: string;
  /** Whether Prompt Lens may write in a model's folder. Tests inject it: running as root writes through chmod. */
  writable?(dir: string): Promise<boolean>;
}

/** The CLI's (and any host's without its own storage): `$XDG_CACHE_HOME/prompt-lens`, else `~/.cache/prompt-lens`. */
export function defaultCacheLocation(env: NodeJS.ProcessEnv = process.env): CacheLocation {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return { userDir: join(base, 'prompt-lens') };
}

async function writableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder that receives a model file's instrumented copy: its own, or (not writable) a folder of the user cache
 * named after the file's real path, so two models never share one; `beside` says which.
 */
export async function cacheDirFor(modelPath: string, location: CacheLocation = defaultCacheLocation()): Promise<{ dir: string; beside: boolean }> {
  const own = dirname(modelPath);
  if (await (location.writable ?? writableDir)(own)) return { dir: own, beside: true };
  const real = await realpath(modelPath);
  const key = createHash('sha256').update(real).digest('hex').slice(0, 16);
  const label = basename(dirname(dirname(real))).replace(/[^\w.-]+/g, '_') || 'model';
  const dir = join(location.userDir, 'instrumented', `${label}-${key}`);
  await mkdir(dir, { recursive: true });
  return { dir, beside: false };
}

export interface CachePaths { onnx: string; keys: string; manifest: string; hash: string }

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function cachePaths(modelPath: string, options: object, dir = dirname(modelPath)): Promise<CachePaths> {
  const st = await stat(modelPath);
  const identity = st.size <= CONTENT_HASH_LIMIT ? `sha256:${await fileHash(modelPath)}` : `size:${st.size};mtime:${st.mtimeMs}`;
  const hash = createHash('sha256').update(JSON.stringify({ identity, version: INSTRUMENTER_VERSION, options })).digest('hex').slice(0, 8);
  const stem = basename(modelPath, extname(modelPath));
  const base = join(dir, `${stem}.prompt-lens-${hash}`);
  return { onnx: `${base}.onnx`, keys: `${base}.keys.safetensors`, manifest: `${base}.json`, hash };
}

const EDGE_BYTES = 1 << 20;

/**
 * What a written file must still be: sha256 of the whole file up to 64 MiB, else of its size and first and last MiB
 * (a truncated or overwritten copy changes one of them; hashing GBs at every run would not pay).
 */
export async function fileDigest(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const hash = createHash('sha256').update(`${size};`);
    if (size <= CONTENT_HASH_LIMIT) {
      const all = Buffer.alloc(size);
      await handle.read(all, 0, size, 0);
      return hash.update(all).digest('hex');
    }
    const edge = Buffer.alloc(EDGE_BYTES);
    await handle.read(edge, 0, EDGE_BYTES, 0);
    hash.update(edge);
    await handle.read(edge, 0, EDGE_BYTES, size - EDGE_BYTES);
    return hash.update(edge).digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * Puts the original's files that a copy in another folder reads (external weights) beside that copy: onnxruntime
 * reads external data only from the graph's own folder, after resolving links, so a hard link (same file system)
 * or else a plain copy.
 */
export async function mirrorFiles(names: readonly string[], fromDir: string, toDir: string): Promise<void> {
  for (const name of names) {
    const target = join(toDir, name);
    await mkdir(dirname(target), { recursive: true });
    await unlink(target).catch(() => undefined);
    await link(join(fromDir, name), target).catch(() => copyFile(join(fromDir, name), target));
  }
}
