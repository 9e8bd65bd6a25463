import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng } from '../../../src/engine/image/png';
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
