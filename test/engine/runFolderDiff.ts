// How two run folders differ, file by file, apart from what names the run (id, creation time) and its timings:
// pictures to one colour level, tensors and run.json's numbers to float tolerance, everything else exactly.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { decodePng } from '../../src/engine/history';
import { decodeSafetensors, halfsToFloats } from '../../src/engine/safetensors';

/** Relative tolerance of a float (to the largest magnitude in its tensor, or to the value itself in run.json). */
const FLOAT_TOLERANCE = 1e-4;

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (statSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`]));
}

function pngDiff(a: Buffer, b: Buffer): string | undefined {
  const [x, y] = [decodePng(a), decodePng(b)];
  if (x.width !== y.width || x.height !== y.height || x.channels !== y.channels) return `${x.width}x${x.height}x${x.channels} vs ${y.width}x${y.height}x${y.channels}`;
  let worst = 0;
  for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y.data[i]));
  return worst > 1 ? `pixels differ by ${worst} levels` : undefined;
}

function tensorValues(data: Float32Array | Uint16Array): Float32Array {
  return data instanceof Uint16Array ? halfsToFloats(data) : data;
}

function safetensorsDiff(a: Buffer, b: Buffer): string | undefined {
  const [x, y] = [decodeSafetensors(a), decodeSafetensors(b)];
  if (JSON.stringify(x.metadata) !== JSON.stringify(y.metadata)) return 'metadata differs';
  if ([...x.tensors.keys()].join() !== [...y.tensors.keys()].join()) return `tensors ${[...x.tensors.keys()]} vs ${[...y.tensors.keys()]}`;
  for (const [name, tx] of x.tensors) {
    const ty = y.tensors.get(name);
    if (!ty || tx.dtype !== ty.dtype || tx.shape.join() !== ty.shape.join()) return `${name}: dtype or shape differs`;
    const [vx, vy] = [tensorValues(tx.data), tensorValues(ty.data)];
    const scale = vx.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    const worst = vx.reduce((w, v, i) => Math.max(w, Math.abs(v - vy[i])), 0);
    if (worst > FLOAT_TOLERANCE * scale) return `${name}: values differ by ${worst} (largest ${scale})`;
  }
  return undefined;
}

function jsonDiff(a: unknown, b: unknown, at: string): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= FLOAT_TOLERANCE * Math.max(1e-6, Math.abs(a)) ? undefined : `${at}: ${a} vs ${b}`;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b ? undefined : `${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const diff = jsonDiff((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
    if (diff) return diff;
  }
  return undefined;
}

/** What names a run and how long it took, in run.json and the report: the only parts two samplings may differ in. */
function withoutIdentity(json: Record<string, unknown>): Record<string, unknown> {
  return { ...json, id: undefined, createdAt: undefined, timings: undefined };
}

function reportWithoutIdentity(html: string): string {
  return html.replace(/\d+ ms( \([^)]*\))? · run [^<]+/, 'TIME · run ID').replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'PNG');
}

/** The first difference of two run folders beyond ids and timings, or undefined. */
export function runFolderDiff(a: string, b: string): string | undefined {
  const [files, others] = [filesUnder(a), filesUnder(b)];
  if (files.join() !== others.join()) return `files ${files} vs ${others}`;
  for (const file of files) {
    const [x, y] = [readFileSync(path.join(a, file)), readFileSync(path.join(b, file))];
    let diff: string | undefined;
    if (file.endsWith('.png')) diff = pngDiff(x, y);
    else if (file.endsWith('.safetensors')) diff = safetensorsDiff(x, y);
    else if (file === 'run.json') diff = jsonDiff(withoutIdentity(JSON.parse(x.toString())), withoutIdentity(JSON.parse(y.toString())), 'run.json');
    else if (file === 'report.html') diff = reportWithoutIdentity(x.toString()) === reportWithoutIdentity(y.toString()) ? undefined : 'report.html differs';
    else diff = x.equals(y) ? undefined : `${file} differs`;
    if (diff) return `${file}: ${diff}`;
  }
  return undefined;
}
