import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { packMessage, unpackMessage, type PackedMessage } from '../../../src/shared/packedMessage';

/** Every ArrayBuffer reachable from `value`. */
function buffersIn(value: unknown): ArrayBuffer[] {
  if (value instanceof ArrayBuffer) return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(buffersIn);
}

/** What VS Code does to a message on its way: JSON for the body, each ArrayBuffer passed beside it as bytes. */
function overTheWire<T>(packed: PackedMessage<T>): PackedMessage<T> {
  return { ...(JSON.parse(JSON.stringify({ ...packed, bytes: undefined })) as PackedMessage<T>), bytes: packed.bytes.slice(0) };
}

function bytesOf(n: number, length: number): ArrayBuffer {
  return Uint8Array.from({ length }, (_, i) => (n * 31 + i) % 256).buffer;
}

describe('packedMessage', () => {
  // A before/after view of 24 comparisons holds 48 runs of 6 buffers each: past VS Code's 253.
  const message = {
    type: 'compare',
    view: {
      title: 'Finetune',
      comparisons: Array.from({ length: 24 }, (_, c) => ({
        seed: c,
        before: { imagePng: bytesOf(6 * c, 100 + c), maps: [bytesOf(6 * c + 1, 16), bytesOf(6 * c + 2, 0)], timeline: { steps: 20, data: bytesOf(6 * c + 3, 64) } },
        after: { imagePng: bytesOf(6 * c + 4, 90), maps: [bytesOf(6 * c + 5, 8)], failure: null },
      })),
    },
  };

  test('a message of 288 buffers travels as one and comes back equal', () => {
    assert.equal(buffersIn(message).length, 24 * 6);
    const packed = packMessage(message);
    assert.deepEqual(buffersIn(packed), [packed.bytes]);
    const back = unpackMessage(overTheWire(packed));
    assert.deepEqual(back, message);
    const shown = back.view.comparisons[23].before.imagePng;
    assert.ok(shown instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(shown), new Uint8Array(message.view.comparisons[23].before.imagePng));
  });

  test('a message without buffers, and an empty buffer, survive', () => {
    assert.deepEqual(unpackMessage(overTheWire(packMessage({ type: 'ready', restore: { kind: 'run', folder: '/runs/a' } }))), { type: 'ready', restore: { kind: 'run', folder: '/runs/a' } });
    const back = unpackMessage(overTheWire(packMessage({ png: new ArrayBuffer(0) })));
    assert.equal(back.png.byteLength, 0);
  });

  test('each unpacked buffer is its own copy', () => {
    const back = unpackMessage(packMessage({ a: bytesOf(1, 4), b: bytesOf(2, 4) }));
    new Uint8Array(back.a).fill(0);
    assert.deepEqual(new Uint8Array(back.b), new Uint8Array(bytesOf(2, 4)));
  });

  test('a typed array is refused: the protocol carries ArrayBuffers', () => {
    assert.throws(() => packMessage({ maps: new Float32Array(4) }), /ArrayBuffer, not as a typed array/);
  });

  test('a reference past the packed buffers is an error, not undefined', () => {
    const packed = packMessage({ a: bytesOf(1, 4) });
    assert.throws(() => unpackMessage({ ...packed, spans: [] }), /refers to buffer 0 of 0/);
  });
});
