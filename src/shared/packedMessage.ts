// Every message between the host and a webview travels with its ArrayBuffers packed into one. VS Code passes
// each buffer of a webview message as one argument of an RPC call whose argument count is written in a single
// byte: past 253 buffers the rest arrive as `undefined` (a before/after view of 24 comparisons holds 288, the
// seed strip of a 300-seed list 300 thumbnails). Packing costs one copy of the bytes on each side.

/** A message in transit: its JSON-safe body, with each ArrayBuffer replaced by a reference into `bytes`. */
export interface PackedMessage<T> {
  readonly packed: 1;
  readonly body: unknown;
  readonly bytes: ArrayBuffer;
  /** Offset and length of each packed buffer in `bytes`, two numbers a buffer, in reference order. */
  readonly spans: readonly number[];
  /** Never set: ties the packed form to the message type it unpacks to. */
  readonly message?: T;
}

const REF = '$packedBuffer';

interface BufferRef {
  [REF]: number;
}

function isRef(value: unknown): value is BufferRef {
  return typeof value === 'object' && value !== null && typeof (value as Partial<BufferRef>)[REF] === 'number';
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

export function packMessage<T>(message: T): PackedMessage<T> {
  const buffers: ArrayBuffer[] = [];
  const walk = (value: unknown): unknown => {
    if (value instanceof ArrayBuffer) {
      buffers.push(value);
      return { [REF]: buffers.length - 1 };
    }
    if (ArrayBuffer.isView(value)) throw new Error('a webview message carries pixels and maps as ArrayBuffer, not as a typed array');
    if (Array.isArray(value)) return value.map(walk);
    if (!isContainer(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item);
    return out;
  };
  const body = walk(message);
  const spans: number[] = [];
  let total = 0;
  for (const b of buffers) {
    spans.push(total, b.byteLength);
    total += b.byteLength;
  }
  const bytes = new Uint8Array(total);
  buffers.forEach((b, i) => bytes.set(new Uint8Array(b), spans[2 * i]));
  return { packed: 1, body, bytes: bytes.buffer, spans };
}

/** The message `packMessage` packed, each buffer its own copy. */
export function unpackMessage<T>(packed: PackedMessage<T>): T {
  const { bytes, spans } = packed;
  const walk = (value: unknown): unknown => {
    if (isRef(value)) {
      const i = value[REF];
      if (!(i >= 0 && 2 * i + 1 < spans.length)) throw new Error(`a packed message refers to buffer ${i} of ${spans.length / 2}`);
      return bytes.slice(spans[2 * i], spans[2 * i] + spans[2 * i + 1]);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (!isContainer(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item);
    return out;
  };
  return walk(packed.body) as T;
}
