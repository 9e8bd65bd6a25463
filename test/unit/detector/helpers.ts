// Test helpers: the scene fixtures, a TypeScript mirror of the worlds' renderers for hand-made cases,
// a deterministic degradation (blur, noise, washed-out colours) standing in for generated images, and the
// accuracy tally (per object, per scene, confusion tables) the fixture tests print.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DetectionReport, checkImage } from '../../../src/engine/detector/detector';
import { type NeglectShape, insideNeglectShape } from '../../../src/engine/detector/neglectGeometry';
import { NEGLECT_SHAPES_WORLD } from '../../../src/engine/detector/neglectShapes';
import type { Colour, Rgb, Shape } from '../../../src/engine/detector/palette';
import { TINY_SHAPES } from '../../../src/engine/detector/tinyShapes';
import type { DetectorWorld } from '../../../src/engine/detector/world';
import type { RgbImage } from '../../../src/engine/detector/segment';

/** A folder under test/fixtures beside the compiled test (out/test/unit/detector), else under the working directory. */
function fixturePath(relative: string): string {
  const beside = path.resolve(__dirname, '../../../../test/fixtures', relative);
  return existsSync(beside) ? beside : path.resolve(process.cwd(), 'test/fixtures', relative);
}

/** tiny-shapes scenes (python3 -m prompt_lens_py.fixtures.detector_scenes). */
export const FIXTURE_DIR = fixturePath('scenes');
/** neglect-shapes scenes (python3 -m prompt_lens_py.fixtures.neglect_scenes). */
export const NEGLECT_FIXTURE_DIR = fixturePath('detector/neglect-shapes');

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
  /** Rotation in degrees (the worlds draw everything upright: 0). */
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

/** A world's generator as the renderer needs it: its RGB per colour and its shapes' inside test at radius r. */
export interface Painter {
  palette: Readonly<Record<Colour, Rgb>>;
  inside(shape: Shape, x: number, y: number, r: number): boolean;
}

export const TINY_SHAPES_PAINTER: Painter = { palette: TINY_SHAPES.palette, inside };
/** world.py's shapes, through the detector's own port of their geometry (checked against world.py's pixels). */
export const NEGLECT_SHAPES_PAINTER: Painter = {
  palette: NEGLECT_SHAPES_WORLD.palette,
  inside: (shape, x, y, r) => insideNeglectShape(shape as NeglectShape, x / r, y / r),
};

/** Anti-aliased render (4x4 supersampling) as scenes.render / world.render do, at any size; background mid-grey by default. */
export function renderScene(
  width: number,
  height: number,
  objects: DrawObject[],
  background: Rgb = [127.5, 127.5, 127.5],
  painter: Painter = TINY_SHAPES_PAINTER,
): RgbImage {
  const SS = 4;
  const img = new Float64Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) img[p * 3 + c] = background[c];
  for (const o of objects) {
    const col = typeof o.colour === 'string' ? painter.palette[o.colour] : o.colour;
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
            if (painter.inside(o.shape, cos * dx + sin * dy, -sin * dx + cos * dy, o.r)) hits++;
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

export interface Tally {
  objects: number;
  found: number;
  scenes: number;
  success: number;
  countOk: number;
  status: Record<string, number>;
  /** [true][predicted] by nearest detection centroid within the object's radius; 'none' when none. */
  colour: Record<string, Record<string, number>>;
  shape: Record<string, Record<string, number>>;
}

/** Runs checkImage on each scene with its own caption, in `world`, and tallies statuses and confusions. */
export function evaluate(images: RgbImage[], scenes: FixtureScene[], world: DetectorWorld = TINY_SHAPES): Tally {
  const t: Tally = { objects: 0, found: 0, scenes: 0, success: 0, countOk: 0, status: {}, colour: {}, shape: {} };
  for (const c of world.colours) t.colour[c] = {};
  for (const s of world.shapes) t.shape[s] = {};
  scenes.forEach((scene, i) => {
    const report: DetectionReport = checkImage(images[i], scene.caption, { world });
    t.scenes++;
    if (report.success) t.success++;
    if (report.count === scene.objects.length) t.countOk++;
    for (const o of report.objects) {
      t.objects++;
      if (o.status === 'found') t.found++;
      t.status[o.status] = (t.status[o.status] ?? 0) + 1;
    }
    for (const [colour, shape, cx, cy, r] of scene.objects) {
      let best = -1;
      let bestD = Infinity;
      report.detections.forEach((d, j) => {
        const dist = Math.hypot(d.centroid.x - cx, d.centroid.y - cy);
        if (dist < bestD) {
          bestD = dist;
          best = j;
        }
      });
      const det = best >= 0 && bestD <= r ? report.detections[best] : undefined;
      const pc = det ? det.colour : 'none';
      const ps = det ? det.shape : 'none';
      t.colour[colour][pc] = (t.colour[colour][pc] ?? 0) + 1;
      t.shape[shape][ps] = (t.shape[shape][ps] ?? 0) + 1;
    }
  });
  return t;
}

function confusionTable(title: string, m: Record<string, Record<string, number>>, labels: readonly string[]): string {
  const cols = [...labels, 'none'];
  const w = 9;
  const lines = [`${title} (rows: truth, columns: nearest detection)`, ''.padEnd(w) + cols.map((c) => c.padStart(w)).join('')];
  for (const r of labels) lines.push(r.padEnd(w) + cols.map((c) => String(m[r][c] ?? 0).padStart(w)).join(''));
  return lines.join('\n');
}

export function summary(name: string, t: Tally, world: DetectorWorld = TINY_SHAPES): string {
  return [
    `${name}: per object ${t.found}/${t.objects} = ${(t.found / t.objects).toFixed(4)}, ` +
      `per scene ${t.success}/${t.scenes} = ${(t.success / t.scenes).toFixed(4)}, ` +
      `count exact ${t.countOk}/${t.scenes}; statuses ${JSON.stringify(t.status)}`,
    confusionTable('  colour', t.colour, world.colours),
    confusionTable('  shape', t.shape, world.shapes),
  ].join('\n');
}

/**
 * The fixture's layouts re-rendered with lumpy outlines: each radius scaled by 1 + sum_k a_k cos(k t + phase_k),
 * k = 2..6, a_k uniform in [0, amplitude / sqrt(k - 1)], then blur 0.5 px, noise 8/255, 10 % washed out.
 */
export function lumpyScenes(fixture: SceneFixture, amplitude: number, painter: Painter = TINY_SHAPES_PAINTER): RgbImage[] {
  return fixture.scenes.map((scene) => {
    const rnd = mulberry32(scene.seed * 7 + 3);
    const objects = scene.objects.map(([colour, shape, cx, cy, r]) => ({
      colour,
      shape,
      cx,
      cy,
      r,
      wobble: [2, 3, 4, 5, 6].map((k) => ({ k, a: (amplitude * rnd()) / Math.sqrt(k - 1), phase: 2 * Math.PI * rnd() })),
    }));
    return degrade(renderScene(fixture.width, fixture.height, objects, undefined, painter), 0.5, 8, 0.1, scene.seed + 1);
  });
}
