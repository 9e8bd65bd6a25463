// Hand-made cases: rendered with the TypeScript mirror of scenes.py's renderer (helpers.renderScene).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkImage, detectObjects } from '../../../src/engine/detector/detector';
import { chromaPlane, paletteFrom } from '../../../src/engine/detector/palette';
import { TINY_SHAPES } from '../../../src/engine/detector/tinyShapes';
import { estimateBackground } from '../../../src/engine/detector/segment';
import { renderScene } from './helpers';

const summary = (objs: { colour: string; shape: string }[]): string[] => objs.map((o) => `${o.colour} ${o.shape}`).sort();

describe('detector, hand-made cases', () => {
  test('the palette hues are well apart relative to mid-grey', () => {
    const hues = paletteFrom(TINY_SHAPES.background, TINY_SHAPES.colours, TINY_SHAPES.palette).map((e) => (e.hue * 180) / Math.PI);
    // red ~0, green ~124, blue ~-126, yellow ~57 degrees
    assert.ok(Math.abs(hues[0]) < 1 && Math.abs(hues[1] - 124) < 2 && Math.abs(hues[2] + 126) < 2 && Math.abs(hues[3] - 57) < 2, `${hues}`);
    assert.deepEqual(chromaPlane(10, 10, 10), [0, 0]);
  });

  test('empty image: nothing detected, nothing found, no success', () => {
    const img = renderScene(32, 32, []);
    const det = detectObjects(img);
    assert.equal(det.objects.length, 0);
    assert.deepEqual(det.background, [128, 128, 128]);
    const r = checkImage(img, 'a red circle');
    assert.equal(r.count, 0);
    assert.equal(r.success, false);
    assert.deepEqual(r.objects, [{ requested: { colour: 'red', shape: 'circle' }, status: 'missing' }]);
    assert.deepEqual(r.extra, []);
    // nothing requested: no success either
    assert.equal(checkImage(img, '').success, false);
  });

  test('one object of each kind, several sizes, at 32x32', () => {
    for (const shape of ['circle', 'square', 'triangle'] as const) {
      for (const colour of ['red', 'green', 'blue', 'yellow'] as const) {
        for (const r of [4.5, 6, 9]) {
          const r0 = checkImage(renderScene(32, 32, [{ colour, shape, cx: 15.3, cy: 16.7, r }]), `a ${colour} ${shape}`);
          assert.equal(r0.success, true, `${colour} ${shape} r=${r}: ${JSON.stringify(r0.detections.map((d) => [d.colour, d.shape]))}`);
          assert.equal(r0.count, 1);
        }
      }
    }
  });

  test('shape classes do not depend on rotation (moment features)', () => {
    for (const shape of ['circle', 'square', 'triangle'] as const) {
      for (let angle = 0; angle < 360; angle += 13) {
        const rotated = renderScene(32, 32, [{ colour: 'green', shape, cx: 16.2, cy: 15.6, r: 6, angle }]);
        assert.deepEqual(summary(detectObjects(rotated).objects), [`green ${shape}`], `${shape} at ${angle} degrees`);
      }
    }
  });

  test('stretched shapes: an ellipse is a circle, a stretched triangle a triangle, a rectangle a square', () => {
    const cases = [
      { shape: 'circle', stretch: 2, want: 'circle' },
      { shape: 'triangle', stretch: 1.6, want: 'triangle' },
      { shape: 'square', stretch: 1.8, want: 'square' },
    ] as const;
    for (const c of cases) {
      const img = renderScene(32, 32, [{ colour: 'red', shape: c.shape, cx: 16, cy: 16, r: 6, stretch: c.stretch, angle: 20 }]);
      const objs = detectObjects(img).objects;
      assert.deepEqual(summary(objs), [`red ${c.want}`], `${c.shape} x${c.stretch}`);
      assert.ok(objs[0].features.elongation > 0.2, `elongation ${objs[0].features.elongation}`);
    }
    const round = detectObjects(renderScene(32, 32, [{ colour: 'red', shape: 'circle', cx: 16, cy: 16, r: 7 }])).objects[0];
    assert.ok(round.features.elongation < 0.05, `elongation ${round.features.elongation}`);
  });

  test('objects touching the border are still found and flagged', () => {
    const img = renderScene(32, 32, [
      { colour: 'red', shape: 'square', cx: 4, cy: 16, r: 6 }, // left edge at x = -0.24
      { colour: 'blue', shape: 'circle', cx: 25, cy: 26.5, r: 5.5 }, // bottom at y = 32
    ]);
    const r = checkImage(img, 'a red square and a blue circle');
    assert.equal(r.success, true, JSON.stringify(r.detections.map((d) => [d.colour, d.shape, d.scores])));
    assert.deepEqual(
      r.detections.map((d) => d.features.touchesBorder),
      [true, true],
    );
  });

  test('two objects of the same colour are two detections', () => {
    // circumscribed circles 2 px apart, as close as scenes.py places them
    const img = renderScene(32, 32, [
      { colour: 'green', shape: 'circle', cx: 9, cy: 12, r: 6 },
      { colour: 'green', shape: 'square', cx: 22, cy: 12, r: 5 },
    ]);
    const r = checkImage(img, 'a green circle and a green square');
    assert.equal(r.count, 2);
    assert.equal(r.success, true, JSON.stringify(summary(r.detections)));
  });

  test('wrong colour, wrong shape, missing and extra objects', () => {
    const img = renderScene(32, 32, [
      { colour: 'blue', shape: 'circle', cx: 8, cy: 8, r: 5 },
      { colour: 'yellow', shape: 'triangle', cx: 24, cy: 9, r: 6.5 },
      { colour: 'green', shape: 'triangle', cx: 16, cy: 24, r: 6.5 },
    ]);
    const r = checkImage(img, 'a red circle, a yellow square and a red square');
    assert.equal(r.count, 3);
    assert.deepEqual(
      r.objects.map((o) => o.status),
      ['wrong-colour', 'wrong-shape', 'missing'],
    );
    assert.deepEqual(summary(r.objects.map((o) => r.detections[o.detection ?? -1] ?? { colour: '-', shape: '-' })), ['- -', 'blue circle', 'yellow triangle']);
    assert.equal(r.objects[2].detection, undefined);
    assert.deepEqual(summary(r.extra), ['green triangle']);
    assert.equal(r.success, false);
    assert.equal(r.caption?.objects.length, 3);
  });

  test('a half match never counts as success', () => {
    const img = renderScene(32, 32, [{ colour: 'blue', shape: 'square', cx: 16, cy: 16, r: 6 }]);
    const r = checkImage(img, 'a red square');
    assert.equal(r.objects[0].status, 'wrong-colour');
    assert.equal(r.success, false);
  });

  test('a caption object without colour is found in any colour', () => {
    const img = renderScene(32, 32, [{ colour: 'yellow', shape: 'circle', cx: 16, cy: 16, r: 6 }]);
    assert.equal(checkImage(img, 'a circle').success, true);
    assert.equal(checkImage(img, [{ shape: 'circle' }]).success, true);
    const upper = checkImage(img, [{ colour: 'Yellow', shape: 'CIRCLE' }]);
    assert.deepEqual(upper.objects[0].requested, { colour: 'yellow', shape: 'circle' });
    assert.equal(upper.success, true);
  });

  test('specks are dropped, fragments touching an object are merged into it', () => {
    const img = renderScene(32, 32, [{ colour: 'red', shape: 'square', cx: 16, cy: 16, r: 7 }]);
    // a 2x2 blue speck far away, and a 1-px yellow-ish (orange) pixel on the square's edge
    for (const [x, y] of [
      [3, 3],
      [4, 3],
      [3, 4],
      [4, 4],
    ]) {
      img.data.set([25, 51, 242], (y * 32 + x) * 3);
    }
    const edge = (16 * 32 + 21) * 3; // just right of the square (x from 11.05 to 20.95)
    img.data.set([235, 160, 25], edge);
    const det = detectObjects(img);
    assert.deepEqual(summary(det.objects), ['red square']);
    assert.equal(det.droppedPixels, 4);
    assert.equal(det.objects[0].features.bbox.width, 11);
  });

  test('other image sizes and a non-grey background', () => {
    const objects = [
      { colour: 'red', shape: 'triangle', cx: 20, cy: 22, r: 14 },
      { colour: 'blue', shape: 'circle', cx: 50, cy: 20, r: 10 },
      { colour: 'yellow', shape: 'square', cx: 36, cy: 36, r: 9 },
    ] as const;
    const big = renderScene(64, 48, [...objects]);
    const r = checkImage(big, 'a red triangle, a blue circle and a yellow square');
    assert.equal(r.success, true, JSON.stringify(summary(r.detections)));
    const light = renderScene(64, 48, [...objects], [220, 220, 220]);
    assert.deepEqual(estimateBackground(light), [220, 220, 220]);
    assert.equal(checkImage(light, 'a red triangle, a blue circle and a yellow square').success, true);
  });

  test('off-palette colours are not objects', () => {
    const img = renderScene(32, 32, [
      { colour: [128, 0, 200], shape: 'circle', cx: 10, cy: 10, r: 6 }, // violet
      { colour: [255, 255, 255], shape: 'square', cx: 22, cy: 22, r: 6 }, // white
    ]);
    assert.equal(detectObjects(img).objects.length, 0);
  });

  test('rejects malformed input', () => {
    assert.throws(() => detectObjects({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }), /expected 12 bytes/);
    assert.throws(() => detectObjects({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }), /RGB or RGBA/);
    assert.throws(() => detectObjects({ width: 0, height: 2, channels: 3, data: new Uint8Array(0) }), /bad image size/);
    const img = renderScene(8, 8, []);
    assert.throws(() => checkImage(img, [{ colour: 'purple', shape: 'circle' }]), /unknown colour "purple"/);
    assert.throws(() => checkImage(img, [{ shape: 'hexagon' }]), /unknown shape "hexagon"/);
  });

  test('RGBA input (alpha ignored) gives the same detections as RGB', () => {
    const rgb = renderScene(32, 32, [
      { colour: 'blue', shape: 'triangle', cx: 12, cy: 14, r: 8 },
      { colour: 'yellow', shape: 'square', cx: 24, cy: 24, r: 5 },
    ]);
    const rgba = new Uint8Array(32 * 32 * 4);
    for (let p = 0; p < 32 * 32; p++) {
      rgba.set(rgb.data.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = p % 256;
    }
    assert.deepEqual(detectObjects({ width: 32, height: 32, channels: 4, data: rgba }), detectObjects(rgb));
  });

  test('deterministic: the same image gives the same, correct report', () => {
    const img = renderScene(32, 32, [
      { colour: 'green', shape: 'triangle', cx: 10, cy: 12, r: 7 },
      { colour: 'red', shape: 'circle', cx: 23, cy: 20, r: 6 },
    ]);
    const report = checkImage(img, 'a green triangle and a red circle');
    assert.ok(report.success);
    assert.deepEqual(report.objects.map((o) => o.status), ['found', 'found']);
    assert.deepEqual(checkImage(img, 'a green triangle and a red circle'), report);
  });
});
