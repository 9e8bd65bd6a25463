import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../../src/engine/random';
import { detLog, detSinCos2Pi } from '../../../src/engine/random/detMath';

interface Vectors {
  cases: { seed: number; uint32: number[]; normals: number[] }[];
  fingerprint: { seed: number; count: number; fnv1a: number };
}

// Compiled tests run from out/test/unit/random; the JSON stays in the source tree.
const vectors = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../../../test/unit/random/vectors.json'), 'utf8'),
) as Vectors;

function fnv1a(values: Float32Array): number {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
  }
  return h;
}

describe('Rng matches the Python mirror (vectors.json)', () => {
  for (const c of vectors.cases) {
    test(`seed ${c.seed}: first 16 uint32`, () => {
      const rng = new Rng(c.seed);
      assert.deepEqual(Array.from({ length: 16 }, () => rng.nextUint32()), c.uint32);
    });
    test(`seed ${c.seed}: first 16 normals, exact float32`, () => {
      assert.deepEqual(Array.from(new Rng(c.seed).normals(16)), c.normals);
    });
  }
  test('a full 3x32x32 noise tensor has the same float32 bits', () => {
    const f = vectors.fingerprint;
    assert.equal(fnv1a(new Rng(f.seed).normals(f.count)), f.fnv1a);
  });
});

describe('Rng behaviour', () => {
  test('rejects seeds outside [0, 2^32 - 1]', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(() => new Rng(bad), RangeError);
    }
    assert.doesNotThrow(() => new Rng(2 ** 32 - 1));
  });

  test('nextFloat64 stays in [0, 1) and uses 53 bits', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 10000; i++) {
      const u = rng.nextFloat64();
      assert.ok(u >= 0 && u < 1);
      assert.ok(Number.isInteger(u * 2 ** 53));
    }
  });

  test('an odd count drops the last sine; the stream continues', () => {
    const a = new Rng(9);
    const odd = a.normals(3);
    const b = new Rng(9);
    const even = b.normals(4);
    assert.deepEqual(Array.from(odd), Array.from(even.subarray(0, 3)));
    assert.deepEqual(Array.from(a.normals(2)), Array.from(b.normals(2)));
  });

  test('normals look standard normal', () => {
    const x = new Rng(123).normals(200000);
    let sum = 0;
    let sq = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / x.length;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(sq / x.length - mean * mean - 1) < 0.02, `variance ${sq / x.length}`);
  });
});

describe('deterministic math', () => {
  test('detLog is within a few ulps of Math.log', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 20000; i++) {
      const x = 1 - rng.nextFloat64();
      const ref = Math.log(x);
      assert.ok(Math.abs(detLog(x) - ref) <= 4e-16 * Math.max(Math.abs(ref), 1e-300), `x=${x}`);
    }
    assert.equal(detLog(1), 0);
    assert.ok(Math.abs(detLog(2 ** -53) - -53 * Math.LN2) < 1e-13);
  });

  test('detSinCos2Pi matches sin/cos of 2*pi*u', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 20000; i++) {
      const u = rng.nextFloat64();
      const [s, c] = detSinCos2Pi(u);
      assert.ok(Math.abs(s - Math.sin(2 * Math.PI * u)) < 2e-15, `u=${u}`);
      assert.ok(Math.abs(c - Math.cos(2 * Math.PI * u)) < 2e-15, `u=${u}`);
    }
    assert.deepEqual(detSinCos2Pi(0), [0, 1]);
  });
});
