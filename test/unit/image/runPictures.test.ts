import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { decodePng } from '../../../src/engine/history/thumbnail';
import { renderPictures, type PictureSpec } from '../../../src/engine/image/runPictures';
import { heatmapIndexed, INFERNO_PALETTE, mapMax, overlayHeat, resizeMapBilinear, resizeNearest } from '../../../src/engine/image/raster';

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
  // The heat map: a palette picture, 128 rows of a filter byte and 128 indices after its 256-colour PLTE.
  const heat = Buffer.from(files[2][1]);
  assert.equal(heat[25], 3, 'colour type palette');
  const idatAt = 33 + 12 + 256 * 3;
  assert.equal(heat.subarray(idatAt + 4, idatAt + 8).toString('ascii'), 'IDAT');
  assert.equal(inflateSync(heat.subarray(idatAt + 8, idatAt + 8 + heat.readUInt32BE(idatAt))).length, 128 * (1 + 128));
});

test('the filtered pictures decode to the pixels they were rendered from', () => {
  const files = new Map(renderPictures(spec));
  const overlayMap = spec.maps[1].map;
  const base = resizeNearest(spec.image, 128, 128);
  const resized = resizeMapBilinear(overlayMap, 8, 8, 128, 128);
  assert.deepEqual(decodePng(files.get('maps/00-circle-overlay.png') as Uint8Array), overlayHeat(base, resized, mapMax(resized)));
  assert.deepEqual(decodePng(files.get('image-large.png') as Uint8Array), resizeNearest(spec.image, 256, 256));
  // The heat map: inferno of each cell's level, cells 16 px wide.
  const heatMap = spec.maps[0].map;
  const colours = heatmapIndexed(heatMap, 8, 8, mapMax(heatMap));
  const heat = decodePng(files.get('maps/00-circle.png') as Uint8Array);
  for (const [x, y] of [[0, 0], [17, 3], [127, 127], [64, 90]]) {
    const level = colours.indices[Math.floor(y / 16) * 8 + Math.floor(x / 16)];
    assert.deepEqual([...heat.data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3)], [...INFERNO_PALETTE.subarray(level * 3, level * 3 + 3)], `pixel ${x},${y}`);
  }
});

test('a 512 px image is not enlarged: its maps are drawn at its own size', () => {
  const image = { width: 512, height: 512, channels: 3 as const, data: new Uint8Array(512 * 512 * 3).fill(90) };
  const files = renderPictures({ ...spec, image });
  assert.deepEqual(files.map(([, png]) => Buffer.from(png).readUInt32BE(16)), [512, 512, 512, 512]);
});
