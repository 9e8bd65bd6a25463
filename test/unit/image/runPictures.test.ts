import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { renderPictures, type PictureSpec } from '../../../src/engine/image/runPictures';

const spec: PictureSpec = {
  image: { width: 32, height: 32, channels: 3, data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256) },
  mapHeight: 8,
  mapWidth: 8,
  maps: [
    { file: 'maps/00-circle.png', kind: 'heat', map: Float32Array.from({ length: 64 }, (_, i) => (i % 9) / 9) },
    { file: 'maps/00-circle-overlay.png', kind: 'overlay', map: Float32Array.from({ length: 64 }, (_, i) => (i % 5) / 5) },
  ],
  imageFile: 'image.png',
  largeFile: 'image-large.png',
};

test('pictures are the image, its 256 px enlargement and one 256 px picture per map, in order', () => {
  const files = renderPictures(spec);
  assert.deepEqual(files.map(([name]) => name), ['image.png', 'image-large.png', 'maps/00-circle.png', 'maps/00-circle-overlay.png']);
  // IHDR width of each: 32, then 256 for the rest.
  assert.deepEqual(files.map(([, png]) => Buffer.from(png).readUInt32BE(16)), [32, 256, 256, 256]);
  // 256 rows of a filter byte and 256 RGB pixels.
  const idat = Buffer.from(files[2][1]);
  assert.equal(inflateSync(idat.subarray(41, 41 + idat.readUInt32BE(33))).length, 256 * (1 + 256 * 3));
});
