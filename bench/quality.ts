// Quality report of the embedded model, measured by the detector on fixed prompt x seed pairs.
//   npm run quality [-- --model DIR --seeds N --steps N --guidance G]
// Prints: single-, two- and three-object strict success, colour-only and shape-only presence, count errors,
// and per-word attention localisation (a word's DAAM map denser on its own object than on the other), for
// the default display maps (DAAM: every grid but the coarsest, here the 16x16 layers) and for the 8x8 layers.
import * as path from 'node:path';
import { checkImage, COLOURS, SHAPES, type DetectedObject, type RequestedObject } from '../src/engine/detector';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { AttentionAnalysis } from '../src/engine/run/attentionAnalysis';

interface Options {
  model: string;
  seeds: number;
  steps: number;
  guidance: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { model: path.resolve(__dirname, '..', '..', 'models', 'tiny-shapes'), seeds: 10, steps: 20, guidance: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--model') options.model = path.resolve(value);
    else if (flag === '--seeds') options.seeds = Number(value);
    else if (flag === '--steps') options.steps = Number(value);
    else if (flag === '--guidance') options.guidance = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

type Obj = Required<RequestedObject>;

/** The embedded model's coarser cross-attention grid, reported beside the default display maps. */
const COARSE_GRID = 8;

/**
 * Every colour x shape once; two-object pairs with distinct colours and shapes (so each word names one
 * object, which localisation needs); and pairs that share a colour or a shape ("a red circle and a red
 * square"), where binding each word to the right object is harder.
 */
function promptSets(): { single: Obj[][]; double: Obj[][]; shared: Obj[][]; triple: Obj[][] } {
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

/** The training captions' form: "a red circle", "a red circle and a blue square", "a red circle, a green square and a blue triangle". */
function caption(objects: Obj[]): string {
  const phrases = objects.map((o) => `a ${o.colour} ${o.shape}`);
  return phrases.length <= 2 ? phrases.join(' and ') : `${phrases.slice(0, -1).join(', ')} and ${phrases[phrases.length - 1]}`;
}

function density(map: Float32Array, width: number, box: DetectedObject['bbox']): number {
  let sum = 0;
  for (let y = box.y; y < box.y + box.height; y++) for (let x = box.x; x < box.x + box.width; x++) sum += map[y * width + x];
  return sum / Math.max(1, box.width * box.height);
}

/** Marks on the shape words, as a user marks objects: the S&E scores are computed for them. */
function shapeMarks(text: string, objects: Obj[]): { word: string; start: number; end: number }[] {
  let from = 0;
  return objects.map((o) => {
    const start = text.indexOf(o.shape, text.indexOf(o.colour, from));
    from = start + o.shape.length;
    return { word: o.shape, start, end: from };
  });
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
  const { single, double, shared, triple } = promptSets();
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
  /** Separate-and-Enhance's activation of the weakest object (two-object images): how much mass the loss can raise. */
  const weakestPeaks: number[] = [];
  const started = performance.now();
  // Two-object prompts: a fixed subset spread over the pairs so the total stays near the single set's.
  const doubles = double.filter((_, i) => i % Math.max(1, Math.floor(double.length / 24)) === 0).slice(0, 24);
  const shareds = shared.filter((_, i) => i % 2 === 0);
  const triples = triple.filter((_, i) => i % 2 === 0);
  for (const [set, prompts] of [['single', single], ['double', doubles], ['shared', shareds], ['triple', triples]] as const) {
    for (const objects of prompts) {
      const text = caption(objects);
      for (let seed = 0; seed < options.seeds; seed++) {
        const tokenized = pipeline.tokenizer.encode(text);
        const [, h, w] = pipeline.sampleShape(undefined);
        const input = { prompt: text, objects: shapeMarks(text, objects), tokenized, steps: options.steps, sampleH: h, sampleW: w };
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
        const report = checkImage(out.image, objects);
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
        // Localisation needs both objects found: their boxes are where each word should look.
        if (set === 'double' && report.success) {
          const boxes = report.objects.map((m) => report.detections[m.detection as number].bbox);
          for (const [view, colourBucket, shapeBucket, peakBuckets] of [
            [analysis, tally.colourWords, tally.shapeWords, [tally.colourPeaks, tally.shapePeaks]],
            [coarse, tally.colourWordsCoarse, tally.shapeWordsCoarse, undefined],
          ] as const) {
            const { words, mapWidth, scores } = view.finish();
            if (view === analysis && scores) weakestPeaks.push(Math.min(...scores.activations.map((a) => a.value)));
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
  const meanPeak = weakestPeaks.reduce((a, b) => a + b, 0) / Math.max(1, weakestPeaks.length);
  console.log(`weakest object's activation (S&E, shape words): mean ${meanPeak.toFixed(3)} over ${weakestPeaks.length} two-object images with both found`);
  console.log(`${tally.single.n + tally.double.n + tally.shared.n + tally.triple.n} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
