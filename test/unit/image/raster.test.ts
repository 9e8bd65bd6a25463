import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferno } from '../../../src/shared/colormap';
import type { RasterImage } from '../../../src/engine/image/png';
import { heatmapIndexed, INFERNO_PALETTE, overlayHeat, resizeIndexed, resizeNearest } from '../../../src/engine/image/raster';

// The per-pixel formulas the kernels implement, written plainly: the kernels must give the same bytes.
const map = Float32Array.from({ length: 6 * 5 }, (_, i) => (Math.sin(i * 1.7) + 0.3) * 0.02);
const image: RasterImage = { width: 6, height: 5, channels: 3, data: Uint8Array.from({ length: 6 * 5 * 3 }, (_, i) => (i * 37) % 256) };

test('inferno hits its end anchors and clamps', () => {
  assert.deepEqual(inferno(0), [0, 0, 4]);
  assert.deepEqual(inferno(1), [252, 255, 164]);
  assert.deepEqual(inferno(-3), [0, 0, 4]);
  assert.deepEqual(inferno(Number.NaN), [0, 0, 4]);
  // Halfway between anchors 3 [159, 42, 99] and 4 [212, 72, 66]: x = 3.5.
  assert.deepEqual(inferno(0.5), [186, 57, 83]);
});

test('heatmapIndexed gives each cell the palette level round(255 value / scale), clamped; the palette is inferno at 256 levels', () => {
  const out = heatmapIndexed(Float32Array.from([...map, Number.NaN, -1, 1]), 1, 33, 0.03);
  for (let p = 0; p < 30; p++) assert.equal(out.indices[p], Math.round(Math.min(1, Math.max(0, map[p] / 0.03)) * 255), `pixel ${p}`);
  assert.deepEqual([...out.indices.subarray(30)], [0, 0, 255]);
  for (const level of [0, 1, 77, 128, 254, 255]) assert.deepEqual([...INFERNO_PALETTE.subarray(level * 3, level * 3 + 3)], inferno(level / 255));
  // Within two colour levels of the unrounded colour (inferno climbs up to 476 levels per unit, 0.9 per half level).
  for (let p = 0; p < 30; p++) {
    const exact = inferno(map[p] / 0.03);
    const shown = INFERNO_PALETTE.subarray(out.indices[p] * 3, out.indices[p] * 3 + 3);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(shown[c] - exact[c]) <= 2, `pixel ${p}`);
  }
});

test('resizeIndexed enlarges palette indices cell by cell, as resizeNearest does pixels', () => {
  const small = heatmapIndexed(map, 5, 6, 0.03);
  const large = resizeIndexed(small, 24, 20);
  assert.deepEqual(large.indices, resizeNearest({ width: 6, height: 5, channels: 1, data: small.indices }, 24, 20).data);
  assert.equal(large.palette, INFERNO_PALETTE);
});

test('overlayHeat blends inferno over the picture with alpha 0.75 v', () => {
  const out = overlayHeat(image, map, 0.03);
  for (let p = 0; p < 30; p++) {
    const v = Math.min(1, Math.max(0, map[p] * (1 / 0.03)));
    const heat = inferno(v);
    const a = 0.75 * v;
    const expected = [0, 1, 2].map((c) => Math.round(image.data[p * 3 + c] * (1 - a) + heat[c] * a));
    assert.deepEqual([...out.data.subarray(p * 3, p * 3 + 3)], expected, `pixel ${p}`);
  }
});

test('resizeNearest takes source pixel floor(x * in / out), rows and columns', () => {
  for (const [w, h] of [[24, 20], [4, 3], [13, 7]]) {
    const out = resizeNearest(image, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = (Math.min(4, Math.floor((y * 5) / h)) * 6 + Math.min(5, Math.floor((x * 6) / w))) * 3;
        assert.deepEqual([...out.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)], [...image.data.subarray(src, src + 3)], `${w}x${h} at ${x},${y}`);
      }
    }
  }
});
