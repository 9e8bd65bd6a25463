/**
 * Minimal safetensors reader/writer: 8-byte little-endian header length, a JSON header
 * ({ name: { dtype, shape, data_offsets }, __metadata__: { string: string } }), then the raw little-endian data.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/writeFileAtomic';

export type SafeDtype = 'F32' | 'F16';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F32 as Float32Array, F16 as the raw half bits in a Uint16Array. */
  data: Float32Array | Uint16Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2 };

export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    if ((t.dtype === 'F32') !== (t.data instanceof Float32Array)) throw new Error(`safetensors: ${name} data does not match ${t.dtype}`);
    const size = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (what the reference implementation does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    bytes.copy(out, pos);
    pos += bytes.length;
  }
  return out;
}

/** `keep` picks the tensors to read (others, of any dtype, are skipped); default all. */
export function decodeSafetensors(buf: Uint8Array, what = 'buffer', keep: (name: string) => boolean = () => true): SafetensorsFile {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 8) throw new Error(`${what}: not a safetensors file (too short)`);
  const n = Number(bytes.readBigUInt64LE(0));
  if (n > bytes.length - 8) throw new Error(`${what}: not a safetensors file (header length ${n} exceeds file)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(`${what}: not a safetensors file (header is not JSON)`);
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!keep(name)) continue;
    const { dtype, shape, data_offsets: offs } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32' && dtype !== 'F16') throw new Error(`${what}: tensor ${name} has unsupported dtype ${dtype} (F32, F16 only)`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offs;
    if (end - begin !== count * BYTES[dtype] || dataStart + end > bytes.length) {
      throw new Error(`${what}: tensor ${name} offsets [${begin}, ${end}] do not match shape [${shape}] ${dtype}`);
    }
    // Copy out: the slice may be misaligned for a typed-array view, and callers may keep tensors after the file buffer.
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    const data = dtype === 'F32' ? new Float32Array(raw.buffer) : new Uint16Array(raw.buffer);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path);
}

/** Written atomically (a temporary file, then a rename), so an interrupted write never leaves a partial file. */
export async function writeSafetensors(path: string, tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
