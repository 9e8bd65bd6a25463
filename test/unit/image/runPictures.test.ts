import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { decodePng } from '../../../src/engine/history/thumbnail';
import { renderPictures, type PictureSpec } from '../../../src/engine/image/runPictures';
import { mapMax, overlayHeat, resizeMapBilinear, resizeNearest } from '../../../src/engine/image/raster';

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

test('pictures are the image, its 256 px enlargement and one 128 px picture per map, in order', () => {
  const files = renderPictures(spec);
  assert.deepEqual(files.map(([name]) => name), ['image.png', 'image-large.png', 'maps/00-circle.png', 'maps/00-circle-overlay.png']);
  // IHDR width of each: 32, 256, then 128 for the maps.
  assert.deepEqual(files.map(([, png]) => Buffer.from(png).readUInt32BE(16)), [32, 256, 128, 128]);
  // 128 rows of a filter byte and 128 RGB pixels.
  const idat = Buffer.from(files[2][1]);
  assert.equal(inflateSync(idat.subarray(41, 41 + idat.readUInt32BE(33))).length, 128 * (1 + 128 * 3));
});

test('the filtered pictures decode to the pixels they were rendered from', () => {
  const files = new Map(renderPictures(spec));
  const overlayMap = spec.maps[1].map;
  const base = resizeNearest(spec.image, 128, 128);
  const resized = resizeMapBilinear(overlayMap, 8, 8, 128, 128);
  assert.deepEqual(decodePng(files.get('maps/00-circle-overlay.png') as Uint8Array), overlayHeat(base, resized, mapMax(resized)));
  assert.deepEqual(decodePng(files.get('image-large.png') as Uint8Array), resizeNearest(spec.image, 256, 256));
});

test('a 512 px image is not enlarged: its maps are drawn at its own size', () => {
  const image = { width: 512, height: 512, channels: 3 as const, data: new Uint8Array(512 * 512 * 3).fill(90) };
  const files = renderPictures({ ...spec, image });
  assert.deepEqual(files.map(([, png]) => Buffer.from(png).readUInt32BE(16)), [512, 512, 512, 512]);
});
