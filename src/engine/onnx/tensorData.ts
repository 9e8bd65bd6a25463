/** Reading the values of TensorProtos: raw_data, typed fields, or external data files. */
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { isWithin, realPathOf } from '../files/containment';
import { InputError } from '../files/errors';
import { halfToFloat } from '../safetensors/f16';
import { DataType, EXTERNAL, toNumber, type TensorProto } from './proto';

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

function elementCount(t: TensorProto): number {
  return tensorDims(t).reduce((a, b) => a * b, 1);
}

const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8, [DataType.INT32]: 4, [DataType.INT64]: 8 };

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === EXTERNAL;
}

/** The most bytes one external-data read may ask for: Node's file reads take a 32-bit signed length. */
export const MAX_EXTERNAL_BYTES = 0x7fffffff;

/** A model's external data that cannot be what it claims: the model folder is wrong, not the program. */
export class TensorDataError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'TensorDataError';
  }
}

/** A non-negative integer written as decimal text (external data keeps offset and length as strings). */
function byteCount(text: string | undefined, fallback: number): number | undefined {
  const value = text === undefined ? fallback : /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Reads an externally stored tensor's bytes from `location` (relative to the model's folder) at
 * offset/length. The location must really lie in the model folder (symlinks followed), and offset and
 * length must be whole numbers that fit the tensor, the file and a single read: a crafted entry is an
 * error naming the tensor and the file, never an oversized allocation or an aborted process.
 */
async function readExternal(t: TensorProto, baseDir: string): Promise<Uint8Array> {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new TensorDataError(`tensor ${t.name} is stored externally but has no location`);
  if (isAbsolute(location) || normalize(location).startsWith('..')) throw new TensorDataError(`tensor ${t.name}: external location ${location} leaves the model folder`);
  const file = join(baseDir, location);
  const realFile = await realPathOf(file);
  if (!isWithin(realFile, await realPathOf(baseDir))) {
    throw new TensorDataError(`tensor ${t.name}: external data ${file} leads outside the model folder ${baseDir} (to ${realFile})`);
  }
  const expected = elementCount(t) * (ELEMENT_BYTES[t.dataType ?? 0] ?? 0);
  const offset = byteCount(entries.get('offset'), 0);
  const length = byteCount(entries.get('length'), expected);
  const where = `tensor ${t.name} in ${file}`;
  if (offset === undefined) throw new TensorDataError(`${where}: offset "${entries.get('offset')}" is not a whole number of bytes`);
  if (length === undefined) throw new TensorDataError(`${where}: length "${entries.get('length') ?? expected}" is not a whole number of bytes`);
  if (expected > 0 && length !== expected) throw new TensorDataError(`${where}: length ${length} bytes, but its shape and type need ${expected}`);
  if (length > MAX_EXTERNAL_BYTES) throw new TensorDataError(`${where}: length ${length} bytes is more than one tensor may hold (${MAX_EXTERNAL_BYTES})`);
  let fh: FileHandle;
  try {
    fh = await open(realFile, 'r');
  } catch (error) {
    throw new TensorDataError(`${where}: cannot open the external data (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new TensorDataError(`${where}: the external data is not a regular file`);
    if (offset + length > stat.size) throw new TensorDataError(`${where}: offset ${offset} + length ${length} is past the file's end (${stat.size} bytes)`);
    const out = new Uint8Array(length);
    const { bytesRead } = await fh.read(out, 0, length, offset);
    if (bytesRead !== length) throw new TensorDataError(`${where}: the file ended after ${bytesRead} of ${length} bytes at offset ${offset}`);
    return out;
  } finally {
    await fh.close();
  }
}

/** Little-endian element bytes of a float32/float16 tensor wherever they are stored. */
async function floatBytes(t: TensorProto, baseDir: string): Promise<Uint8Array> {
  if (isExternal(t)) return readExternal(t, baseDir);
  if (t.rawData && t.rawData.length) return t.rawData;
  const n = elementCount(t);
  if (t.dataType === DataType.FLOAT) return new Uint8Array(Float32Array.from(t.floatData ?? []).buffer, 0, n * 4);
  // float16 without raw_data keeps its bit patterns in int32_data.
  if (t.dataType === DataType.FLOAT16) return new Uint8Array(Uint16Array.from(t.int32Data ?? []).buffer, 0, n * 2);
  throw new Error(`tensor ${t.name} has data type ${t.dataType}, expected float32 or float16`);
}

/** Values of a float32 or float16 tensor: the float32 view and, for float16, the original bit patterns. */
export async function readFloatTensor(t: TensorProto, baseDir: string): Promise<{ values: Float32Array; halfBits?: Uint16Array }> {
  const bytes = await floatBytes(t, baseDir);
  const n = elementCount(t);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes); // aligned private copy; protobuf byte fields are views into the file buffer
  if (t.dataType === DataType.FLOAT) {
    if (copy.length !== n * 4) throw new Error(`tensor ${t.name}: ${copy.length} bytes for ${n} float32 values`);
    return { values: new Float32Array(copy.buffer) };
  }
  if (t.dataType === DataType.FLOAT16) {
    if (copy.length !== n * 2) throw new Error(`tensor ${t.name}: ${copy.length} bytes for ${n} float16 values`);
    const halfBits = new Uint16Array(copy.buffer);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = halfToFloat(halfBits[i]);
    return { values, halfBits };
  }
  throw new Error(`tensor ${t.name} has data type ${t.dataType}, expected float32 or float16`);
}

/** Values of a small embedded constant (scales, shapes) as numbers; undefined for types or storage not handled. */
export function smallConstant(t: TensorProto): number[] | undefined {
  if (isExternal(t)) return undefined;
  const n = elementCount(t);
  if (n > 64) return undefined;
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (t.dataType) {
      case DataType.FLOAT: out.push(view ? view.getFloat32(i * 4, true) : (t.floatData ?? [])[i]); break;
      case DataType.DOUBLE: out.push(view ? view.getFloat64(i * 8, true) : (t.doubleData ?? [])[i]); break;
      case DataType.FLOAT16: out.push(halfToFloat(view ? view.getUint16(i * 2, true) : (t.int32Data ?? [])[i])); break;
      case DataType.INT32: out.push(view ? view.getInt32(i * 4, true) : (t.int32Data ?? [])[i]); break;
      case DataType.INT64: out.push(view ? Number(view.getBigInt64(i * 8, true)) : toNumber((t.int64Data ?? [])[i])); break;
      default: return undefined;
    }
  }
  return out.some((v) => v === undefined) ? undefined : out;
}
