import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { clearRunCache, decodePng, findRuns, latestRunFor, parseRunJson, thumbnailPng, wordInRun } from '../../src/engine/history';
import { encodePng, type RasterImage } from '../../src/engine/image/png';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import type { RunResult } from '../../src/engine/record/runResult';

/** A small but complete run result: what writeRunRecord writes for real runs. */
function fakeResult(prompt: string, objects: [string, number][], seed = 7): RunResult {
  const h = 8;
  const w = 8;
  const map = (k: number): Float32Array => Float32Array.from({ length: h * w }, (_, i) => ((i * (k + 3)) % 17) / 17);
  const words = prompt.split(' ');
  const image: RasterImage = { width: 32, height: 32, channels: 3, data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256) };
  return {
    prompt,
    objects: objects.map(([word, start]) => ({ word, start, end: start + word.length })),
    source: { file: '/x/shapes.prompt', line: 3 },
    settings: { seed, steps: 20, guidance: 4, eta: 0, negative: '', scheduler: 'ddim' },
    model: { id: 'tiny-shapes', path: '/models/tiny-shapes', hash: 'abc' },
    provider: { name: 'cpu', fallbacks: [] },
    image,
    tokens: [{ index: 0, id: 1, text: '<|startoftext|>' }],
    mapHeight: h,
    mapWidth: w,
    mapRecipe: 'test',
    layers: [],
    words: words.map((word, i) => ({ word, tokenIndices: [i + 1], isObject: objects.some(([o]) => o === word), isSpecial: false, map: map(i) })),
    scores:
      objects.length > 0
        ? {
            overlap: 0.25,
            overlapMap: map(9),
            activations: objects.map(([word], i) => ({ word, value: 0.5 + i / 10 })),
            weakest: objects[0][0],
            enhanceLoss: 0.5,
            totalLoss: 0.5,
            pairs: objects.length >= 2 ? [{ a: objects[0][0], b: objects[1][0], iou: 0.125, ioaA: 0.2, ioaB: 0.3 }] : [],
            masks: new Uint8Array(objects.length * h * w),
            basis: 'test',
          }
        : undefined,
    timings: { textEncoderMs: 1, unetMs: 1, decodeMs: 1, totalMs: 3, batchSize: 1 },
  };
}

const pause = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

describe('run history', () => {
  let runs: string;
  beforeEach(async () => {
    clearRunCache();
    runs = path.join(await mkdtemp(path.join(tmpdir(), 'pl-history-')), 'runs');
  });

  test('a missing runs folder has no runs', async () => {
    assert.deepEqual(await findRuns(runs), []);
    assert.equal(await latestRunFor(runs, 'a red circle'), undefined);
  });

  test('reads what writeRunRecord wrote, newest first, skipping partial and foreign folders', async () => {
    const older = await writeRunRecord(fakeResult('a red circle and a blue square', [['circle', 6], ['square', 24]], 1), runs, { now: new Date('2026-01-01T10:00:00Z') });
    const newer = await writeRunRecord(fakeResult('a red circle and a blue square', [['circle', 6], ['square', 24]], 2), runs, { now: new Date('2026-01-02T10:00:00Z') });
    const other = await writeRunRecord(fakeResult('a blue square', [['square', 7]]), runs, { now: new Date('2026-01-03T10:00:00Z') });
    await mkdir(path.join(runs, '.partial-123'));
    await mkdir(path.join(runs, 'notes'));
    await writeFile(path.join(runs, 'broken-run.json'), '{');
    await mkdir(path.join(runs, 'broken'));
    await writeFile(path.join(runs, 'broken', 'run.json'), '{ not json');

    const all = await findRuns(runs);
    assert.deepEqual(all.map((r) => r.id), [other.id, newer.id, older.id]);
    const latest = await latestRunFor(runs, '  a red circle and a blue square ');
    assert.equal(latest?.id, newer.id);
    assert.equal(latest?.settings.seed, 2);
    assert.equal(latest?.report, newer.report);
    assert.equal(latest?.model.id, 'tiny-shapes');
    assert.equal(await latestRunFor(runs, 'a red circle'), undefined);
  });

  test('the listing is cached until the folder changes', async () => {
    await writeRunRecord(fakeResult('a blue square', [['square', 7]]), runs, { now: new Date('2026-01-01T10:00:00Z') });
    const first = await findRuns(runs);
    assert.equal(await findRuns(runs), first, 'same array while the folder is unchanged');
    await pause(30);
    const added = await writeRunRecord(fakeResult('a blue square', [['square', 7]], 9), runs, { now: new Date('2026-02-01T10:00:00Z') });
    const second = await findRuns(runs);
    assert.equal(second.length, 2);
    assert.equal((await latestRunFor(runs, 'a blue square'))?.id, added.id);
    await pause(30);
    await rm(added.folder, { recursive: true });
    assert.equal((await findRuns(runs)).length, 1);
  });

  test('wordInRun: overlay paths, activation, weakest and IoU with the other objects', async () => {
    const written = await writeRunRecord(fakeResult('a red circle and a blue square', [['circle', 6], ['square', 24]]), runs);
    const run = await latestRunFor(runs, 'a red circle and a blue square');
    assert.ok(run);
    const circle = wordInRun(run, 'Circle');
    assert.ok(circle);
    assert.equal(circle.isObject, true);
    assert.equal(circle.activation, 0.5);
    assert.equal(circle.weakest, true);
    assert.deepEqual(circle.pairs, [{ other: 'square', iou: 0.125, ioa: 0.2 }]);
    assert.equal(circle.overlay, path.join(written.folder, 'maps', '02-circle-overlay.png'));
    const square = wordInRun(run, 'square');
    assert.deepEqual(square?.pairs, [{ other: 'circle', iou: 0.125, ioa: 0.3 }]);
    assert.equal(square?.weakest, false);
    const red = wordInRun(run, 'red');
    assert.equal(red?.isObject, false);
    assert.equal(red?.activation, undefined);
    assert.deepEqual(red?.pairs, []);
    assert.equal(wordInRun(run, 'triangle'), undefined);
  });

  test('parseRunJson rejects non-records, mistyped fields and file references leaving the run folder', () => {
    assert.equal(parseRunJson('[]', '/r/x'), null);
    assert.equal(parseRunJson('{"id": 1}', '/r/x'), null);
    assert.equal(parseRunJson(JSON.stringify({ prompt: 'a cat', scores: { overlap: null } }), '/r/x'), null);
    const escaping = (heat: string, overlay: string): string => JSON.stringify({ prompt: 'a cat', files: { maps: [{ word: 'cat', heat, overlay }] } });
    assert.equal(parseRunJson(escaping('../../etc/passwd', 'maps/cat.png'), '/r/x'), null);
    assert.equal(parseRunJson(escaping('maps/cat.png', '/etc/shadow'), '/r/x'), null);
    const run = parseRunJson(escaping('maps/./cat.png', 'maps/cat-overlay.png'), '/r/x');
    assert.ok(run);
    assert.equal(run.id, 'x');
    assert.deepEqual(run.files.maps[0], { word: 'cat', heat: 'maps/cat.png', overlay: 'maps/cat-overlay.png' });
    assert.equal(run.scores, undefined);
  });
});

describe('thumbnails', () => {
  test('decodePng reads what encodePng writes (grey, RGB, RGBA)', () => {
    for (const channels of [1, 3, 4] as const) {
      const image: RasterImage = { width: 5, height: 3, channels, data: Uint8Array.from({ length: 15 * channels }, (_, i) => (i * 37) % 256) };
      assert.deepEqual(decodePng(encodePng(image)), image);
    }
  });

  test('decodePng undoes every PNG row filter', async () => {
    // A 2x2 RGB PNG whose rows use filters 1 (sub), 2 (up), 3 (average) and 4 (Paeth), built by hand.
    const { deflateSync } = await import('node:zlib');
    const pixels = [
      [10, 20, 30, 40, 50, 60],
      [70, 80, 90, 100, 110, 120],
      [5, 200, 7, 250, 1, 2],
      [33, 44, 55, 66, 77, 88],
    ];
    const bpp = 3;
    const raw: number[] = [];
    pixels.forEach((row, y) => {
      const filter = y + 1;
      raw.push(filter);
      row.forEach((v, x) => {
        const a = x >= bpp ? row[x - bpp] : 0;
        const b = y > 0 ? pixels[y - 1][x] : 0;
        const c = x >= bpp && y > 0 ? pixels[y - 1][x - bpp] : 0;
        const p = a + b - c;
        const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
        const pred = [0, a, b, (a + b) >> 1, paeth][filter];
        raw.push((v - pred + 256) & 0xff);
      });
    });
    const reference = encodePng({ width: 2, height: 4, channels: 3, data: Uint8Array.from(pixels.flat()) });
    // Swap the IDAT of the reference file for the filtered one (chunk lengths and CRCs do not matter to the decoder's output check).
    const ihdr = reference.subarray(8, 8 + 25);
    const body = deflateSync(Buffer.from(raw));
    const idat = Buffer.alloc(12 + body.length);
    idat.writeUInt32BE(body.length, 0);
    idat.write('IDAT', 4, 'ascii');
    body.copy(idat, 8);
    const png = Buffer.concat([reference.subarray(0, 8), ihdr, idat, Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82])]);
    assert.deepEqual(Array.from(decodePng(png).data), pixels.flat());
  });

  test('thumbnailPng shrinks large pictures and leaves small or unreadable ones alone', async () => {
    const runs = path.join(await mkdtemp(path.join(tmpdir(), 'pl-thumb-')), 'runs');
    const written = await writeRunRecord(fakeResult('a blue square', [['square', 7]]), runs);
    const large = await readFile(path.join(written.folder, 'image-large.png'));
    const big = decodePng(large);
    assert.equal(big.width, 256);
    const thumb = thumbnailPng(large, 128);
    const small = decodePng(thumb);
    assert.deepEqual([small.width, small.height, small.channels], [128, 128, big.channels]);
    assert.ok(thumb.length < large.length);
    assert.equal(thumbnailPng(thumb, 128), thumb);
    // Overlays are stored at the hover's size already.
    const overlay = await readFile(path.join(written.folder, 'maps', '02-square-overlay.png'));
    assert.equal(thumbnailPng(overlay, 128), overlay);
    const junk = Buffer.from('not a png');
    assert.equal(thumbnailPng(junk, 128), junk);
  });
});
