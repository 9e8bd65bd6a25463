// Test helpers: the scene fixture, a TypeScript mirror of scenes.py's renderer for hand-made cases,
// and a deterministic degradation (blur, noise, washed-out colours) standing in for generated images.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Colour, Rgb, Shape } from '../../../src/engine/detector/palette';
import { TINY_SHAPES } from '../../../src/engine/detector/tinyShapes';
import type { RgbImage } from '../../../src/engine/detector/segment';

/** test/fixtures/scenes beside the compiled test (out/test/unit/detector), else under the working directory. */
export const FIXTURE_DIR = ((): string => {
  const beside = path.resolve(__dirname, '../../../../test/fixtures/scenes');
  return existsSync(beside) ? beside : path.resolve(process.cwd(), 'test/fixtures/scenes');
})();

export interface FixtureScene {
  seed: number;
  caption: string;
  /** [colour, shape, cx, cy, r] with r the circumscribed radius in px. */
  objects: [Colour, Shape, number, number, number][];
}

export interface SceneFixture {
  generator: string;
  generatorSha256: string;
  firstSeed: number;
  count: number;
  height: number;
  width: number;
  background: number[];
  palette: Record<string, number[]>;
  scenes: FixtureScene[];
  images: RgbImage[];
}

export function loadSceneFixture(dir = FIXTURE_DIR): SceneFixture {
  const meta = JSON.parse(readFileSync(path.join(dir, 'scenes.json'), 'utf8')) as Omit<SceneFixture, 'images'>;
  const raw = gunzipSync(readFileSync(path.join(dir, 'scenes.bin.gz')));
  const size = meta.width * meta.height * 3;
  if (raw.length !== size * meta.count) throw new Error(`scene fixture: ${raw.length} bytes, expected ${size * meta.count}`);
  const images = meta.scenes.map(
    (_, i): RgbImage => ({ width: meta.width, height: meta.height, channels: 3, data: new Uint8Array(raw.subarray(i * size, (i + 1) * size)) }),
  );
  return { ...meta, images };
}

export interface DrawObject {
  colour: Colour | Rgb;
  shape: Shape;
  cx: number;
  cy: number;
  /** Circumscribed radius, px. */
  r: number;
  /** Rotation in degrees (scenes.py draws everything upright: 0). */
  angle?: number;
  /** Horizontal stretch applied after the rotation (scenes.py: 1). */
  stretch?: number;
  /** Lumpy outline: the shape's radius at angle t is scaled by 1 + sum a cos(k t + phase). */
  wobble?: { k: number; a: number; phase: number }[];
}

function inside(shape: Shape, x: number, y: number, r: number): boolean {
  if (shape === 'circle') return x * x + y * y <= r * r;
  if (shape === 'square') {
    const h = r / Math.SQRT2;
    return Math.abs(x) <= h && Math.abs(y) <= h;
  }
  // upright equilateral triangle (apex up, y down), centroid at the origin, inradius r/2 (as scenes.py)
  const inr = r / 2;
  if (y > inr) return false;
  for (const deg of [-30, 210]) {
    const a = (deg * Math.PI) / 180;
    if (x * Math.cos(a) + y * Math.sin(a) > inr) return false;
  }
  return true;
}

/** Anti-aliased render (4x4 supersampling) as scenes.render does, at any size; background mid-grey by default. */
export function renderScene(width: number, height: number, objects: DrawObject[], background: Rgb = [127.5, 127.5, 127.5]): RgbImage {
  const SS = 4;
  const img = new Float64Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) img[p * 3 + c] = background[c];
  for (const o of objects) {
    const col = typeof o.colour === 'string' ? TINY_SHAPES.palette[o.colour] : o.colour;
    const cos = Math.cos(((o.angle ?? 0) * Math.PI) / 180);
    const sin = Math.sin(((o.angle ?? 0) * Math.PI) / 180);
    // only pixels that can be covered: the shape lies within r * stretch * (1 + sum |a|) of its centre
    const reach = o.r * Math.max(1, o.stretch ?? 1) * (1 + (o.wobble ?? []).reduce((acc, w) => acc + Math.abs(w.a), 0)) + 1;
    const ya = Math.max(0, Math.floor(o.cy - reach));
    const yb = Math.min(height - 1, Math.ceil(o.cy + reach));
    const xa = Math.max(0, Math.floor(o.cx - reach));
    const xb = Math.min(width - 1, Math.ceil(o.cx + reach));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        let hits = 0;
        for (let sy = 0; sy < SS; sy++) {
          for (let sx = 0; sx < SS; sx++) {
            let dx = (x + (sx + 0.5) / SS - o.cx) / (o.stretch ?? 1);
            let dy = y + (sy + 0.5) / SS - o.cy;
            if (o.wobble) {
              const t = Math.atan2(dy, dx);
              let f = 1;
              for (const w of o.wobble) f += w.a * Math.cos(w.k * t + w.phase);
              dx /= f;
              dy /= f;
            }
            if (inside(o.shape, cos * dx + sin * dy, -sin * dx + cos * dy, o.r)) hits++;
          }
        }
        const cov = hits / (SS * SS);
        const p = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) img[p + c] = img[p + c] * (1 - cov) + col[c] * cov;
      }
    }
  }
  const data = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) data[i] = Math.round(Math.min(255, Math.max(0, img[i])));
  return { width, height, channels: 3, data };
}

/** mulberry32: a small deterministic PRNG for test noise. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Stand-in for a generated image: Gaussian blur (sigma px, clamped edges), colours pulled `desaturate` of
 * the way towards mid-grey, then Gaussian noise (sigma in 0-255 units), deterministic per seed.
 */
export function degrade(image: RgbImage, blur: number, noise: number, desaturate: number, seed: number): RgbImage {
  const { width: W, height: H } = image;
  let f: Float64Array<ArrayBufferLike> = Float64Array.from(image.data);
  if (blur > 0) {
    const R = Math.ceil(3 * blur);
    const k: number[] = [];
    for (let i = -R; i <= R; i++) k.push(Math.exp(-(i * i) / (2 * blur * blur)));
    const s = k.reduce((a, b) => a + b, 0);
    const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
      const out = new Float64Array(src.length);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < 3; c++) {
            let acc = 0;
            for (let i = -R; i <= R; i++) {
              const xx = horizontal ? Math.min(W - 1, Math.max(0, x + i)) : x;
              const yy = horizontal ? y : Math.min(H - 1, Math.max(0, y + i));
              acc += k[i + R] * src[(yy * W + xx) * 3 + c];
            }
            out[(y * W + x) * 3 + c] = acc / s;
          }
        }
      }
      return out;
    };
    f = pass(pass(f, true), false);
  }
  const rnd = mulberry32(seed);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) {
    let v = f[i] * (1 - desaturate) + 127.5 * desaturate;
    if (noise > 0) v += noise * Math.sqrt(-2 * Math.log(Math.max(1e-12, rnd()))) * Math.cos(2 * Math.PI * rnd());
    data[i] = Math.round(Math.min(255, Math.max(0, v)));
  }
  return { width: W, height: H, channels: 3, data };
}
