import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodeIndexedPng, encodePng } from '../../../src/engine/image/png';
import { decodePng } from '../../../src/engine/history/thumbnail';
import { inferno } from '../../../src/shared/colormap';
import { resizeMapBilinear } from '../../../src/engine/image/raster';

describe('png', () => {
  test('crc32 matches the standard check value', () => {
    // CRC-32 of "123456789" is 0xCBF43926 (ISO 3309 check value).
    assert.equal((crc32(Buffer.from('123456789')) ^ 0xffffffff) >>> 0, 0xcbf43926);
  });

  test('encodes a 2x1 RGB image that decodes back to the same rows', () => {
    const png = encodePng({ width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 0, 255]) });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), 2);
    assert.equal(png.readUInt32BE(20), 1);
    assert.equal(png[25], 2, 'colour type RGB');
    const idatLength = png.readUInt32BE(33);
    assert.equal(png.subarray(37, 41).toString('ascii'), 'IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    assert.deepEqual([...raw], [0, 255, 0, 0, 0, 0, 255]);
  });

  test('rejects a buffer of the wrong size', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(3) }), /expected 12 bytes/);
  });

  test('a palette picture carries its colours in PLTE before IDAT and decodes to them', () => {
    const palette = Uint8Array.from([10, 20, 30, 200, 100, 0, 7, 8, 9]);
    const indices = Uint8Array.from([0, 1, 2, 2, 1, 0]);
    const png = encodeIndexedPng({ width: 3, height: 2, indices, palette });
    assert.equal(png[25], 3, 'colour type palette');
    assert.equal(png.subarray(37, 41).toString('ascii'), 'PLTE');
    assert.equal(png.readUInt32BE(33), 9);
    assert.equal(png.subarray(37 + 4 + 9 + 4 + 4, 37 + 4 + 9 + 4 + 8).toString('ascii'), 'IDAT');
    const decoded = decodePng(png);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [3, 2, 3]);
    assert.deepEqual([...decoded.data], [...indices].flatMap((i) => [...palette.subarray(i * 3, i * 3 + 3)]));
    assert.throws(() => encodeIndexedPng({ width: 3, height: 2, indices, palette: new Uint8Array(257 * 3) }), /1-256 RGB colours/);
  });

  test('entropy coding alone (huffman) decodes to the same pixels as the default', () => {
    const image = { width: 40, height: 30, channels: 3 as const, data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (Math.sin(i / 50) * 100 + 120) | 0) };
    assert.deepEqual(decodePng(encodePng(image, { filter: 'sub', strategy: 'huffman' })), decodePng(encodePng(image)));
    assert.deepEqual(decodePng(encodePng(image)), image);
  });
});

describe('colours and resizing', () => {
  test('inferno runs from black-violet to pale yellow and clamps', () => {
    assert.deepEqual(inferno(0), [0, 0, 4]);
    assert.deepEqual(inferno(1), [252, 255, 164]);
    assert.deepEqual(inferno(2), inferno(1));
    assert.deepEqual(inferno(Number.NaN), inferno(0));
  });

  test('bilinear resize keeps a constant map constant and interpolates a ramp', () => {
    const constant = resizeMapBilinear(new Float32Array([3, 3, 3, 3]), 2, 2, 5, 5);
    assert.ok(constant.every((v) => Math.abs(v - 3) < 1e-6));
    // 1x2 ramp [0, 1] to width 4 (align_corners=false): centres at -0.25, 0.25, 0.75, 1.25 → clamp.
    const ramp = resizeMapBilinear(new Float32Array([0, 1]), 1, 2, 1, 4);
    assert.deepEqual([...ramp], [0, 0.25, 0.75, 1]);
  });
});
