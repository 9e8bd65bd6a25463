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

/** `value` copied with every leaf that `leaf` replaces (it returns undefined to keep a value and go on). */
function replaceLeaves(value: unknown, leaf: (value: unknown) => unknown): unknown {
  const replaced = leaf(value);
  if (replaced !== undefined) return replaced;
  if (Array.isArray(value)) return value.map((item) => replaceLeaves(item, leaf));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = replaceLeaves(item, leaf);
  return out;
}

export function packMessage<T>(message: T): PackedMessage<T> {
  const buffers: ArrayBuffer[] = [];
  const body = replaceLeaves(message, (value) => {
    if (value instanceof ArrayBuffer) {
      buffers.push(value);
      return { [REF]: buffers.length - 1 };
    }
    if (ArrayBuffer.isView(value)) throw new Error('a webview message carries pixels and maps as ArrayBuffer, not as a typed array');
    return undefined;
  });
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
  return replaceLeaves(packed.body, (value) => {
    if (!isRef(value)) return undefined;
    const i = value[REF];
    if (!(i >= 0 && 2 * i + 1 < spans.length)) throw new Error(`a packed message refers to buffer ${i} of ${spans.length / 2}`);
    return bytes.slice(spans[2 * i], spans[2 * i] + spans[2 * i + 1]);
  }) as T;
}
