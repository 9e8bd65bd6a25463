// How a model composes combinations it saw in training against combinations it never saw, judged by the
// detector: the model card's figures for neglect-shapes (issue: a model that neglects as SD does).
//   npm run combinations [-- --model models/neglect-shapes --seeds 4 --colourings 4 --guidance 2,3 --steps 20 --json FILE]
// Reads the model's pairs.json (its shapes, colours, their training frequencies, the shape pairs seen together
// in training and the held-out ones). Per guidance value it samples every single object, every seen and every
// held-out shape pair (--colourings colour assignments each, drawn once from a fixed seed, word order drawn too)
// at --seeds seeds, and prints: success per family; how each failed image failed (an object missing, a wrong
// colour, a wrong shape); which object was lost (first- or second-named, the more or the less frequent shape);
// held-out success by frequency class (both shapes frequent, one, none); and the held-out pairs one by one.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkImage } from '../src/engine/detector';
import { readModelDetectorWorld } from '../src/engine/model/modelDefaults';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { Rng } from '../src/engine/random';
import { listPrompt, type ShapeObject } from './neglectSplits';
import { outcomeOf, type Outcome } from './outcome';
import { colourings, readPairsFile, type PairsFile } from './pairsFile';

interface Options {
  model: string;
  seeds: number;
  colourings: number;
  guidance: number[];
  steps: number;
  json?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { model: path.resolve(__dirname, '..', '..', 'models', 'neglect-shapes'), seeds: 4, colourings: 4, guidance: [2], steps: 20 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => argv[++i];
    if (flag === '--model') o.model = path.resolve(value());
    else if (flag === '--seeds') o.seeds = Number(value());
    else if (flag === '--colourings') o.colourings = Number(value());
    else if (flag === '--guidance') o.guidance = value().split(',').map(Number);
    else if (flag === '--steps') o.steps = Number(value());
    else if (flag === '--json') o.json = path.resolve(value());
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

type Family = 'single objects' | 'seen pairs' | 'held-out pairs';

interface ImageRecord {
  family: Family;
  objects: ShapeObject[];
  seed: number;
  outcome: Outcome;
  /** Indices (in prompt order) of the objects the detector did not find at all. */
  lost: number[];
}

const share = (n: number, of: number): string => (of === 0 ? 'n/a' : `${((100 * n) / of).toFixed(1)}%`);

function printFamilies(records: ImageRecord[]): void {
  const outcomes: Outcome[] = ['success', 'object missing', 'wrong colour', 'wrong shape'];
  console.log('| family | images | success | object missing | wrong colour | wrong shape | failures that are a missing object |');
  console.log('|---|---|---|---|---|---|---|');
  for (const family of ['single objects', 'seen pairs', 'held-out pairs'] as Family[]) {
    const rows = records.filter((r) => r.family === family);
    const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
    const failed = rows.length - count('success');
    console.log(`| ${family} | ${rows.length} | ${outcomes.map((o) => share(count(o), rows.length)).join(' | ')} | ${share(count('object missing'), failed)} |`);
  }
}

function printLost(records: ImageRecord[], frequency: Record<string, number>): void {
  for (const family of ['seen pairs', 'held-out pairs'] as Family[]) {
    const lost = records.filter((r) => r.family === family && r.lost.length === 1);
    const second = lost.filter((r) => r.lost[0] === 1).length;
    const rarer = lost.filter((r) => {
      const [a, b] = r.objects.map((o) => frequency[o.shape]);
      return r.lost[0] === (a < b ? 0 : 1);
    }).length;
    console.log(`${family}: ${lost.length} images with exactly one object lost: the second-named ${share(second, lost.length)}, the rarer shape ${share(rarer, lost.length)}`);
  }
}

/** Held-out pairs by how frequent their shapes are in training: the five most frequent shapes are "frequent". */
function printFrequencyClasses(records: ImageRecord[], pairs: PairsFile): void {
  const frequent = new Set([...pairs.shapes].sort((a, b) => pairs.shape_frequency[b] - pairs.shape_frequency[a]).slice(0, pairs.shapes.length / 2));
  const classOf = (r: ImageRecord): string => ['rare + rare', 'frequent + rare', 'frequent + frequent'][r.objects.filter((o) => frequent.has(o.shape)).length];
  console.log(`\nheld-out pairs by shape frequency (frequent: ${[...frequent].join(', ')})\n`);
  console.log('| shapes | images | success | object missing |');
  console.log('|---|---|---|---|');
  for (const cls of ['frequent + frequent', 'frequent + rare', 'rare + rare']) {
    const rows = records.filter((r) => r.family === 'held-out pairs' && classOf(r) === cls);
    console.log(`| ${cls} | ${rows.length} | ${share(rows.filter((r) => r.outcome === 'success').length, rows.length)} | ${share(rows.filter((r) => r.outcome === 'object missing').length, rows.length)} |`);
  }
}

function printPairs(records: ImageRecord[], family: Family): void {
  const byPair = new Map<string, ImageRecord[]>();
  for (const r of records.filter((x) => x.family === family)) {
    const key = r.objects.map((o) => o.shape).sort().join(' + ');
    byPair.set(key, [...(byPair.get(key) ?? []), r]);
  }
  const rows = [...byPair].map(([pair, rs]) => ({ pair, n: rs.length, ok: rs.filter((r) => r.outcome === 'success').length }));
  rows.sort((a, b) => a.ok / a.n - b.ok / b.n || a.pair.localeCompare(b.pair));
  console.log(`\n${family}, one by one (success): ${rows.map((r) => `${r.pair} ${r.ok}/${r.n}`).join('; ')}`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const pipeline = await Pipeline.load(await openModelFolder(o.model));
  const world = await readModelDetectorWorld(o.model);
  const pairs = await readPairsFile(o.model, world);
  if (!pairs) throw new Error(`${o.model} has no pairs.json: this benchmark needs a model trained with shape pairs held out`);
  const rng = new Rng(18);
  const singles = pairs.colours.flatMap((colour) => pairs.shapes.map((shape) => [{ colour, shape }]));
  const prompts: { family: Family; objects: ShapeObject[] }[] = [
    ...singles.map((objects) => ({ family: 'single objects' as const, objects })),
    ...pairs.seen_pairs.flatMap((p) => colourings(p, pairs.colours, o.colourings, rng).map((objects) => ({ family: 'seen pairs' as const, objects }))),
    ...pairs.held_out_pairs.flatMap((p) => colourings(p, pairs.colours, o.colourings, rng).map((objects) => ({ family: 'held-out pairs' as const, objects }))),
  ];
  console.log(`model ${pipeline.model.id} (${pipeline.model.hash}); pairs.json: ${pairs.seen_pairs.length} seen and ${pairs.held_out_pairs.length} held-out shape pairs`);
  console.log(`${prompts.length} prompts (${o.colourings} colourings per pair, one per single object) x ${o.seeds} seeds, ${o.steps} DDIM steps`);
  const all: Record<string, ImageRecord[]> = {};
  for (const guidance of o.guidance) {
    const started = performance.now();
    const records: ImageRecord[] = [];
    for (const { family, objects } of prompts) {
      for (let first = 0; first < o.seeds; first += pipeline.batchLimit()) {
        const seeds = Array.from({ length: Math.min(pipeline.batchLimit(), o.seeds - first) }, (_, i) => first + i);
        const images = await pipeline.generateBatch(seeds.map((seed) => ({ prompt: listPrompt(objects).text, negativePrompt: '', seed, steps: o.steps, guidance, eta: 0 })));
        images.forEach((image, i) => {
          const report = checkImage(image.image, objects, { world });
          const lost = report.objects.flatMap((m, k) => (m.status === 'missing' ? [k] : []));
          records.push({ family, objects, seed: seeds[i], outcome: outcomeOf(report), lost });
        });
      }
    }
    console.log(`\n## guidance ${guidance} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    printFamilies(records);
    printLost(records, pairs.shape_frequency);
    printFrequencyClasses(records, pairs);
    printPairs(records, 'held-out pairs');
    printPairs(records, 'seen pairs');
    all[String(guidance)] = records;
  }
  if (o.json) await fs.writeFile(o.json, JSON.stringify({ options: o, records: all }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
