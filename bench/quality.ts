// Quality report of the embedded model, measured by the detector on fixed prompt x seed pairs.
//   npm run quality [-- --model DIR --seeds N --steps N --guidance G --records FILE.json]
// Prints: single-, two- and three-object strict success, colour-only and shape-only presence, count errors,
// and per-word attention localisation (a word's DAAM map denser on its own object than on the other), for
// the default display maps (DAAM: every grid but the coarsest, here the 16x16 layers) and for the 8x8 layers.
// Then, on every two-object image, whether the Separate-and-Enhance scores (the run record's) tell the
// detector's failures from its successes: their means and medians per outcome and failure kind, and AUROCs.
// --records writes those per-image scores and verdicts as JSON.
// Then the score recipes (bench/recipeQuality.ts): every candidate's AUROC within and across prompts on a
// selection and a test half of the model's prompt families (tiny-shapes: five; a model with a pairs.json: seen
// and unseen shape pairs, --colourings N colourings each, default 2), --recipe-seeds N seeds each (default 16, from --first-seed, default 0),
// the chosen failure and risk recipes' test figures; --recipes-only skips the rest, --recipes-out FILE.json
// writes them all.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkImage, type DetectedObject, type DetectionReport, type DetectorWorld, type RequestedObject } from '../src/engine/detector';
import { readModelDetectorWorld } from '../src/engine/model/modelDefaults';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { AttentionAnalysis } from '../src/engine/run/attentionAnalysis';
import type { RunScores } from '../src/engine/record/runResult';
import { auroc, aurocStandardError } from './auroc';
import { listPrompt } from './neglectSplits';
import { readPairsFile } from './pairsFile';
import { compositionFamilies, measureRecipes, pairsFamilies } from './recipeQuality';
import { median } from './stats';

interface Options {
  model: string;
  seeds: number;
  steps: number;
  guidance: number;
  records?: string;
  recipeSeeds: number;
  recipesOnly: boolean;
  recipesOut?: string;
  /** A pairs.json model's colourings per shape pair in the recipe families. */
  colourings: number;
  /** The recipe images' first seed (--first-seed: fresh images for a new measurement). */
  firstSeed: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { model: path.resolve(__dirname, '..', '..', 'models', 'tiny-shapes'), seeds: 10, steps: 20, guidance: 2, recipeSeeds: 16, recipesOnly: false, colourings: 2, firstSeed: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--recipes-only') {
      options.recipesOnly = true;
      i--;
    } else if (flag === '--model') options.model = path.resolve(value);
    else if (flag === '--seeds') options.seeds = Number(value);
    else if (flag === '--steps') options.steps = Number(value);
    else if (flag === '--guidance') options.guidance = Number(value);
    else if (flag === '--records') options.records = path.resolve(value);
    else if (flag === '--recipe-seeds') options.recipeSeeds = Number(value);
    else if (flag === '--recipes-out') options.recipesOut = path.resolve(value);
    else if (flag === '--colourings') options.colourings = Number(value);
    else if (flag === '--first-seed') options.firstSeed = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

type Obj = Required<RequestedObject>;

/** The embedded model's coarser cross-attention grid, reported beside the default display maps. */
const COARSE_GRID = 8;

/**
 * Every colour x shape of the model's world once; two-object pairs with distinct colours and shapes (so each
 * word names one object, which localisation needs); and pairs that share a colour or a shape ("a red circle
 * and a red square"), where binding each word to the right object is harder.
 */
function promptSets({ colours: COLOURS, shapes: SHAPES }: DetectorWorld): { single: Obj[][]; double: Obj[][]; shared: Obj[][]; triple: Obj[][] } {
  const all = COLOURS.flatMap((colour) => SHAPES.map((shape) => ({ colour, shape })));
  const double: Obj[][] = [];
  const shared: Obj[][] = [];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const distinct = all[i].colour !== all[j].colour && all[i].shape !== all[j].shape;
      (distinct ? double : shared).push([all[i], all[j]]);
    }
  }
  // Three objects: one of each shape in three distinct colours.
  const triple: Obj[][] = [];
  for (const a of COLOURS) for (const b of COLOURS) for (const c of COLOURS) {
    if (a !== b && b !== c && a !== c) triple.push([{ colour: a, shape: SHAPES[0] }, { colour: b, shape: SHAPES[1] }, { colour: c, shape: SHAPES[2] }]);
  }
  return { single: all.map((o) => [o]), double, shared, triple };
}

function density(map: Float32Array, width: number, box: DetectedObject['bbox']): number {
  let sum = 0;
  for (let y = box.y; y < box.y + box.height; y++) for (let x = box.x; x < box.x + box.width; x++) sum += map[y * width + x];
  return sum / Math.max(1, box.width * box.height);
}

/** One two-object image: the detector's verdict and the S&E scores its run record would hold. */
interface PairRecord {
  /** What the two objects have in common ("a red circle and a red square": colour). */
  shares: 'nothing' | 'colour' | 'shape';
  prompt: string;
  seed: number;
  success: boolean;
  failure?: FailureKind;
  /** The weaker object's smoothed peak, min_i a_i. */
  weakest: number;
  /** L_sep = max over cells and heads of M1*M2/(M1+M2). */
  overlap: number;
  /** IoU of the two objects' masks (each map at 0.4 of its maximum). */
  iou: number;
  /** L_en = 1 - min_i a_i. */
  enhance: number;
  /** L = L_sep + 0.5 L_en. */
  total: number;
}

type FailureKind = 'fewer objects than asked' | 'an object missing, others drawn' | 'right colour, wrong shape' | 'right shape, wrong colour';

/** The detector's reason for a failed image, one per image, the first that applies in this order. */
function failureKind(report: DetectionReport, asked: number): FailureKind {
  // The detector cannot tell an absent object from one merged into a touching region of the same colour.
  if (report.count < asked) return 'fewer objects than asked';
  const statuses = report.objects.map((o) => o.status);
  if (statuses.includes('missing')) return 'an object missing, others drawn';
  return statuses.includes('wrong-shape') ? 'right colour, wrong shape' : 'right shape, wrong colour';
}

function pairRecord(objects: Obj[], prompt: string, seed: number, report: DetectionReport, scores: RunScores | undefined): PairRecord {
  if (!scores || scores.pairs.length !== 1) throw new Error(`"${prompt}": expected S&E scores for two objects`);
  const [first, second] = objects;
  return {
    shares: first.colour === second.colour ? 'colour' : first.shape === second.shape ? 'shape' : 'nothing',
    prompt,
    seed,
    success: report.success,
    ...(report.success ? {} : { failure: failureKind(report, 2) }),
    weakest: Math.min(...scores.activations.map((a) => a.value)),
    overlap: scores.overlap,
    iou: scores.pairs[0].iou,
    enhance: scores.enhanceLoss,
    total: scores.totalLoss,
  };
}

/** The scores compared; `failureHigh`: a failure should score higher (a loss) rather than lower (an activation). */
const SCORES: { label: string; of: (r: PairRecord) => number; failureHigh: boolean }[] = [
  { label: 'weakest activation', of: (r) => r.weakest, failureHigh: false },
  { label: 'L_sep', of: (r) => r.overlap, failureHigh: true },
  { label: 'mask IoU', of: (r) => r.iou, failureHigh: true },
  { label: 'L_en', of: (r) => r.enhance, failureHigh: true },
  { label: 'L', of: (r) => r.total, failureHigh: true },
];

/** Per-kind AUROC rows only where the kind has this many images: fewer say nothing. */
const MIN_KIND_FOR_AUROC = 5;

/** Markdown table: mean / median of each score per outcome and failure kind, then AUROCs of failure against success. */
function scoreTable(records: PairRecord[]): string[] {
  const successes = records.filter((r) => r.success);
  const failures = records.filter((r) => !r.success);
  const kinds = [...new Set(failures.map((r) => r.failure as FailureKind))].sort();
  const oriented = (score: (typeof SCORES)[number], rs: PairRecord[]): number[] => rs.map((r) => (score.failureHigh ? score.of(r) : -score.of(r)));
  const statsRow = (label: string, rs: PairRecord[]): string => {
    const cells = SCORES.map((s) => {
      const values = rs.map(s.of);
      return values.length === 0 ? 'n/a' : `${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(3)} / ${median(values).toFixed(3)}`;
    });
    return `| ${label} | ${rs.length} | ${cells.join(' | ')} |`;
  };
  const aurocRow = (label: string, bad: PairRecord[], good: PairRecord[]): string => {
    const cells = SCORES.map((s) => {
      const a = auroc(oriented(s, bad), oriented(s, good));
      return Number.isNaN(a) ? 'n/a' : `${a.toFixed(2)} ± ${aurocStandardError(a, bad.length, good.length).toFixed(2)}`;
    });
    return `| ${label} | ${bad.length} / ${good.length} | ${cells.join(' | ')} |`;
  };
  // Within prompts: each prompt's failures against its own successes, pooled over pairs of images, so
  // that scores which only differ between prompts (pairs sharing a colour fail more) cannot pass for seeing failures.
  const prompts = [...new Set(records.map((r) => r.prompt))].map((p) => records.filter((r) => r.prompt === p));
  const byPrompt = prompts.filter((rs) => rs.some((r) => r.success) && rs.some((r) => !r.success));
  const withinCells = SCORES.map((s) => {
    let weighted = 0;
    let pairs = 0;
    for (const rs of byPrompt) {
      const [bad, good] = [rs.filter((r) => !r.success), rs.filter((r) => r.success)];
      weighted += auroc(oriented(s, bad), oriented(s, good)) * bad.length * good.length;
      pairs += bad.length * good.length;
    }
    return pairs === 0 ? 'n/a' : (weighted / pairs).toFixed(2);
  });
  const mixed = byPrompt.flat();
  return [
    `| two-object images | n | ${SCORES.map((s) => s.label).join(' | ')} |`,
    `|---|---|${SCORES.map(() => '---').join('|')}|`,
    statsRow('successes', successes),
    statsRow('successes, pairs sharing a colour', successes.filter((r) => r.shares === 'colour')),
    statsRow('failures', failures),
    ...kinds.map((k) => statsRow(`failures: ${k}`, failures.filter((r) => r.failure === k))),
    aurocRow('AUROC, failures vs successes', failures, successes),
    aurocRow('AUROC, pairs sharing a colour or shape only', failures.filter((r) => r.shares !== 'nothing'), successes.filter((r) => r.shares !== 'nothing')),
    aurocRow('AUROC, pairs sharing a colour only', failures.filter((r) => r.shares === 'colour'), successes.filter((r) => r.shares === 'colour')),
    `| AUROC within prompts (${byPrompt.length} prompts with both outcomes) | ${mixed.filter((r) => !r.success).length} / ${mixed.filter((r) => r.success).length} | ${withinCells.join(' | ')} |`,
    // Per kind against the images like them: pairs sharing a colour, where the failures are.
    ...kinds
      .map((k) => [k, failures.filter((r) => r.failure === k && r.shares === 'colour')] as const)
      .filter(([, bad]) => bad.length >= MIN_KIND_FOR_AUROC)
      .map(([k, bad]) => aurocRow(`AUROC, ${k} vs successes, pairs sharing a colour`, bad, successes.filter((r) => r.shares === 'colour'))),
  ];
}

/** Whether the map's maximum lies in the box: stricter than "denser here than on the other object". */
function peakInside(map: Float32Array, width: number, box: DetectedObject['bbox']): boolean {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  const [x, y] = [best % width, Math.floor(best / width)];
  return x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const pipeline = await Pipeline.load(await openModelFolder(options.model));
  const world = await readModelDetectorWorld(options.model);
  if (!options.recipesOnly) await detectorReport(pipeline, world, options);
  const pairs = await readPairsFile(options.model, world);
  await measureRecipes(pipeline, {
    families: pairs ? pairsFamilies(pairs, options.colourings) : compositionFamilies(world),
    seeds: options.recipeSeeds,
    firstSeed: options.firstSeed,
    steps: options.steps,
    guidance: options.guidance,
    detect: (image, objects) => {
      const report = checkImage(image, objects, { world });
      return { success: report.success, found: report.objects.map((o) => o.status === 'found') };
    },
    out: options.recipesOut,
  });
}

async function detectorReport(pipeline: Pipeline, world: DetectorWorld, options: Options): Promise<void> {
  const { single, double, shared, triple } = promptSets(world);
  const tally = {
    single: { n: 0, success: 0 },
    double: { n: 0, success: 0 },
    shared: { n: 0, success: 0 },
    triple: { n: 0, success: 0 },
    colourPresent: { n: 0, hit: 0 },
    shapePresent: { n: 0, hit: 0 },
    countError: { n: 0, hit: 0 },
    countHigh: { n: 0, hit: 0 },
    colourWords: { n: 0, hit: 0 },
    shapeWords: { n: 0, hit: 0 },
    colourPeaks: { n: 0, hit: 0 },
    shapePeaks: { n: 0, hit: 0 },
    colourWordsCoarse: { n: 0, hit: 0 },
    shapeWordsCoarse: { n: 0, hit: 0 },
  };
  const pairRecords: PairRecord[] = [];
  const started = performance.now();
  // Fixed subsets spread over the pairs and triples, so the total stays near the single set's on any world.
  const spread = <T>(xs: T[], count: number): T[] => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / count)) === 0).slice(0, count);
  const doubles = spread(double, 24);
  const shareds = spread(shared, 15);
  const triples = spread(triple, 12);
  for (const [set, prompts] of [['single', single], ['double', doubles], ['shared', shareds], ['triple', triples]] as const) {
    for (const objects of prompts) {
      // The shape words marked, as a user marks objects and as the finetune table trains.
      const { text, objects: marks } = listPrompt(objects);
      for (let seed = 0; seed < options.seeds; seed++) {
        const tokenized = pipeline.tokenizer.encode(text);
        const [, h, w] = pipeline.sampleShape(undefined);
        const input = { prompt: text, objects: marks, tokenized, steps: options.steps, sampleH: h, sampleW: w };
        const analysis = new AttentionAnalysis(input);
        const coarse = new AttentionAnalysis({ ...input, selection: { grids: [COARSE_GRID] } });
        const out = await pipeline.generate(
          { prompt: text, negativePrompt: '', seed, steps: options.steps, guidance: options.guidance, eta: 0 },
          {
            onAttention: (captures) => {
              analysis.onAttention(captures);
              coarse.onAttention(captures);
            },
          },
        );
        const report = checkImage(out.image, objects, { world });
        tally[set].n++;
        if (report.success) tally[set].success++;
        tally.countError.n++;
        if (report.count !== objects.length) tally.countError.hit++;
        tally.countHigh.n++;
        if (report.count > objects.length) tally.countHigh.hit++;
        for (const o of objects) {
          tally.colourPresent.n++;
          if (report.detections.some((d) => d.colour === o.colour)) tally.colourPresent.hit++;
          tally.shapePresent.n++;
          if (report.detections.some((d) => d.shape === o.shape)) tally.shapePresent.hit++;
        }
        if (set !== 'double' && set !== 'shared') continue;
        const shown = analysis.finish();
        pairRecords.push(pairRecord(objects, text, seed, report, shown.scores));
        // Localisation needs both objects found: their boxes are where each word should look.
        if (set === 'double' && report.success) {
          const boxes = report.objects.map((m) => report.detections[m.detection as number].bbox);
          for (const [{ words, mapWidth }, colourBucket, shapeBucket, peakBuckets] of [
            [shown, tally.colourWords, tally.shapeWords, [tally.colourPeaks, tally.shapePeaks]],
            [coarse.finish(), tally.colourWordsCoarse, tally.shapeWordsCoarse, undefined],
          ] as const) {
            objects.forEach((o, i) => {
              for (const [word, bucket, peakBucket] of [
                [o.colour, colourBucket, peakBuckets?.[0]],
                [o.shape, shapeBucket, peakBuckets?.[1]],
              ] as const) {
                const map = words.find((x) => x.word === word)?.map;
                if (!map) continue;
                bucket.n++;
                if (density(map, mapWidth, boxes[i]) > density(map, mapWidth, boxes[1 - i])) bucket.hit++;
                if (peakBucket) {
                  peakBucket.n++;
                  if (peakInside(map, mapWidth, boxes[i])) peakBucket.hit++;
                }
              }
            });
          }
        }
      }
    }
  }
  const pct = (t: { n: number; success?: number; hit?: number }): string =>
    t.n === 0 ? 'n/a' : `${((100 * (t.success ?? t.hit ?? 0)) / t.n).toFixed(1)}% (${t.success ?? t.hit}/${t.n})`;
  console.log(`model ${pipeline.model.id} (${pipeline.model.hash}); ${options.steps} DDIM steps, guidance ${options.guidance}, seeds 0..${options.seeds - 1}`);
  console.log(`single-object strict success:   ${pct(tally.single)}`);
  console.log(`two-object strict success:      ${pct(tally.double)}  (distinct colours and shapes)`);
  console.log(`  sharing a colour or a shape:  ${pct(tally.shared)}`);
  console.log(`  all two-object prompts:       ${pct({ n: tally.double.n + tally.shared.n, success: tally.double.success + tally.shared.success })}`);
  console.log(`three-object strict success:    ${pct(tally.triple)}`);
  console.log(`colour present (per object):    ${pct(tally.colourPresent)}`);
  console.log(`shape present (per object):     ${pct(tally.shapePresent)}`);
  console.log(`count errors (per image):       ${pct(tally.countError)}`);
  console.log(`  more objects than asked:         ${pct(tally.countHigh)}`);
  console.log(`localisation, colour words:     ${pct(tally.colourWords)}  (display maps; two-object images with both objects found)`);
  console.log(`localisation, shape words:      ${pct(tally.shapeWords)}`);
  console.log(`  peak on its own object, colour words: ${pct(tally.colourPeaks)}`);
  console.log(`  peak on its own object, shape words:  ${pct(tally.shapePeaks)}`);
  console.log(`  the ${COARSE_GRID}x${COARSE_GRID} layers, colour words: ${pct(tally.colourWordsCoarse)}`);
  console.log(`  the ${COARSE_GRID}x${COARSE_GRID} layers, shape words:  ${pct(tally.shapeWordsCoarse)}`);
  // The model card's figure: distinct pairs with both objects found.
  const weakestPeaks = pairRecords.filter((r) => r.shares === 'nothing' && r.success).map((r) => r.weakest);
  const meanPeak = weakestPeaks.reduce((a, b) => a + b, 0) / Math.max(1, weakestPeaks.length);
  console.log(`weakest object's activation (S&E, shape words): mean ${meanPeak.toFixed(3)} over ${weakestPeaks.length} two-object images with both found`);
  console.log('');
  console.log(`Do the S&E scores see the failures? Every two-object image; cells: mean / median; AUROC: a failure scores worse (higher loss, lower activation) than a success, ± Hanley-McNeil SE`);
  const byShared = (['nothing', 'colour', 'shape'] as const).map((shares) => {
    const rs = pairRecords.filter((r) => r.shares === shares);
    return `${shares === 'nothing' ? 'distinct' : `sharing a ${shares}`} ${pct({ n: rs.length, success: rs.filter((r) => r.success).length })}`;
  });
  console.log(`two-object success by what the objects share: ${byShared.join(', ')}`);
  for (const line of scoreTable(pairRecords)) console.log(line);
  console.log('');
  if (options.records) await fs.writeFile(options.records, JSON.stringify(pairRecords, null, 1));
  console.log(`${tally.single.n + tally.double.n + tally.shared.n + tally.triple.n} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
