// Accuracy on rendered ground truth: the scene fixture (python3 -m prompt_lens_py.fixtures.detector_scenes, scenes.py
// seeds 0-999) run through checkImage with each scene's own caption.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseCaption } from '../../../src/engine/detector/caption';
import { TINY_SHAPES } from '../../../src/engine/detector/tinyShapes';
import { FIXTURE_DIR, degrade, evaluate, loadSceneFixture, lumpyScenes, summary } from './helpers';

const fixture = loadSceneFixture();
const { colours: COLOURS, palette: PALETTE, background: DEFAULT_BACKGROUND } = TINY_SHAPES;

describe('detector on rendered scenes (test/fixtures/scenes)', () => {
  test('the fixture matches the detector palette and has >= 500 scenes with 1-3 objects', () => {
    assert.ok(fixture.count >= 500 && fixture.scenes.length === fixture.count && fixture.images.length === fixture.count);
    assert.deepEqual(fixture.background, DEFAULT_BACKGROUND.map(Math.round));
    for (const c of COLOURS) assert.deepEqual(fixture.palette[c], PALETTE[c].map(Math.round), c);
    const counts = [0, 0, 0, 0];
    for (const s of fixture.scenes) counts[s.objects.length]++;
    assert.equal(counts[0], 0);
    assert.ok(counts[1] > 0 && counts[2] > 0 && counts[3] > 0, `objects per scene ${counts}`);
    const generator = path.resolve(FIXTURE_DIR, '../../..', fixture.generator);
    if (existsSync(generator)) {
      const sha = createHash('sha256').update(readFileSync(generator)).digest('hex');
      if (sha !== fixture.generatorSha256) {
        console.log(`note: ${fixture.generator} changed since the fixture was made; rerun python3 -m prompt_lens_py.fixtures.detector_scenes`);
      }
    }
  });

  test('every fixture caption parses to its ground-truth objects', () => {
    for (const s of fixture.scenes) {
      const p = parseCaption(s.caption);
      assert.deepEqual(p.unknown, [], s.caption);
      assert.deepEqual(p.problems, [], s.caption);
      assert.deepEqual(
        p.objects,
        s.objects.map(([colour, shape]) => ({ colour, shape })),
        s.caption,
      );
    }
  });

  test('per-object accuracy >= 0.97 and scene success >= 0.95 on clean renders', () => {
    const t = evaluate(fixture.images, fixture.scenes);
    console.log(summary(`clean renders (${fixture.count} scenes, scenes.py seeds ${fixture.firstSeed}-${fixture.firstSeed + fixture.count - 1})`, t));
    assert.ok(t.found / t.objects >= 0.97, `per-object accuracy ${t.found / t.objects}`);
    assert.ok(t.success / t.scenes >= 0.95, `scene success ${t.success / t.scenes}`);
    assert.ok(t.countOk / t.scenes >= 0.97, `count accuracy ${t.countOk / t.scenes}`);
  });

  // Stand-ins for generated images (blurrier, noisier, washed out); thresholds were tuned on other seeds.
  const variants: { name: string; blur: number; noise: number; desaturate: number; minObject: number }[] = [
    { name: 'mild (blur 0.6 px, noise 6, 10% washed out)', blur: 0.6, noise: 6, desaturate: 0.1, minObject: 0.97 },
    { name: 'strong (blur 0.9 px, noise 10, 20% washed out)', blur: 0.9, noise: 10, desaturate: 0.2, minObject: 0.95 },
    { name: 'heavy (blur 1.2 px, noise 16, 30% washed out)', blur: 1.2, noise: 16, desaturate: 0.3, minObject: 0.85 },
  ];
  for (const v of variants) {
    test(`degraded renders, ${v.name}: per-object accuracy >= ${v.minObject}`, () => {
      const images = fixture.images.map((im, i) => degrade(im, v.blur, v.noise, v.desaturate, fixture.scenes[i].seed + 1));
      const t = evaluate(images, fixture.scenes);
      console.log(summary(v.name, t));
      assert.ok(t.found / t.objects >= v.minObject, `per-object accuracy ${t.found / t.objects}`);
    });
  }

  // Generated shapes also have lumpy outlines: re-render the fixture's layouts (TypeScript mirror of
  // scenes.py) with each radius scaled by 1 + sum_k a_k cos(k t + phase_k), k = 2..6, a_k uniform in
  // [0, amplitude / sqrt(k - 1)], then blur 0.5 px, noise 8/255, 10 % washed out.
  const lumpy: { amplitude: number; minObject: number }[] = [
    { amplitude: 0.1, minObject: 0.97 },
    { amplitude: 0.2, minObject: 0.8 },
  ];
  for (const v of lumpy) {
    test(`lumpy outlines (wobble up to ${v.amplitude * 100} % of the radius): per-object accuracy >= ${v.minObject}`, () => {
      const t = evaluate(lumpyScenes(fixture, v.amplitude), fixture.scenes);
      console.log(summary(`lumpy outlines, amplitude ${v.amplitude}`, t));
      assert.ok(t.found / t.objects >= v.minObject, `per-object accuracy ${t.found / t.objects}`);
    });
  }
});
