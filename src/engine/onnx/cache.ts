/** Cache naming and crash-safe writes for instrumented models kept beside the original. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

/** Bump when the instrumented graph or manifest changes, so stale caches are not reused. */
export const INSTRUMENTER_VERSION = 1;

/** Files up to this size are identified by content; larger ones by size and mtime (hashing gigabytes per run is slow). */
const CONTENT_HASH_LIMIT = 64 * 1024 * 1024;

export interface CachePaths { onnx: string; keys: string; manifest: string; hash: string }

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function cachePaths(modelPath: string, options: object): Promise<CachePaths> {
  const st = await stat(modelPath);
  const identity = st.size <= CONTENT_HASH_LIMIT ? `sha256:${await fileHash(modelPath)}` : `size:${st.size};mtime:${st.mtimeMs}`;
  const hash = createHash('sha256').update(JSON.stringify({ identity, version: INSTRUMENTER_VERSION, options })).digest('hex').slice(0, 8);
  const dir = dirname(modelPath);
  const stem = basename(modelPath, extname(modelPath));
  const base = join(dir, `${stem}.prompt-lens-${hash}`);
  return { onnx: `${base}.onnx`, keys: `${base}.keys.safetensors`, manifest: `${base}.json`, hash };
}

/** Writes to a temporary sibling and renames it into place: a killed process never leaves a half-written file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
