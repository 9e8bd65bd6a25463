import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferno } from '../../../src/shared/colormap';
import type { RasterImage } from '../../../src/engine/image/png';
import { heatmapRgb, overlayHeat, resizeNearest } from '../../../src/engine/image/raster';

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

test('heatmapRgb colours each cell with inferno(value / scale)', () => {
  const out = heatmapRgb(map, 5, 6, 0.03);
  for (let p = 0; p < 30; p++) assert.deepEqual([...out.data.subarray(p * 3, p * 3 + 3)], inferno(map[p] / 0.03), `pixel ${p}`);
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
