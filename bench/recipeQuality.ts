// Which score recipe tells a failed image from a successful one of the same prompt (within prompts), and a
// risky prompt from a safe one (across prompts)? Part of `npm run quality`.
//
// Prompt families (tiny-shapes: distinct pairs, pairs sharing a colour, pairs sharing a shape, three objects,
// article-less pairs; a model with a pairs.json: the shape pairs seen in training and the unseen ones) are each
// cut into a selection half and a test half of their prompts (of their shape pairs) by a seeded shuffle before
// any image is drawn. Every image is sampled once; the marked objects' maps of every layer feed every candidate
// recipe's per-step values as the steps arrive (`RecipeSeries`), so each step window costs nothing more.
// The failure recipe (a per-object statistic) is the one with the best within-prompt AUROC on the selection
// half, the risk recipe (any statistic within steps 1-5: the weakest object's, or an S&E loss term) the best
// prompt-level AUROC there; their thresholds are the selection half's: 9 in 10 objects the detector found score
// above the failure threshold, 9 in 10 successful images on the safe side of the risk threshold. Only then are the
// test half's figures computed, and those are the ones reported.
import { promises as fs } from 'node:fs';
import { RecipeSeries, seriesKey, windowMean, type SeriesSpec } from '../src/engine/attention/recipeSeries';
import { isPerObject, lowerIsWorse, recipeName, type RecipeLayers, type RecipeStatistic, type ScoreRecipe } from '../src/engine/attention/scoreRecipe';
import { stepWindow } from '../src/shared/stepWindow';
import type { RasterImage } from '../src/engine/image/png';
import type { Pipeline } from '../src/engine/pipeline/pipeline';
import { TINY_SHAPES } from '../src/engine/detector';
import { Rng } from '../src/engine/random';
import { auroc, aurocStandardError } from './auroc';
import { listPrompt, type ShapeObject, type Vocabulary } from './neglectSplits';
import { colourings, type PairsFile } from './pairsFile';

/** The detector's verdict as this benchmark needs it: success, and per requested object whether it was found. */
export interface Verdict {
  success: boolean;
  found: boolean[];
}

export interface RecipeQualityOptions {
  seeds: number;
  /** The first image seed (the images use seeds firstSeed .. firstSeed + seeds - 1), so a new measurement can draw fresh images. */
  firstSeed: number;
  steps: number;
  guidance: number;
  detect(image: RasterImage, objects: ShapeObject[]): Verdict;
  /** The prompt families, before the split (compositionFamilies or pairsFamilies). */
  families: PromptFamily[];
  /** Writes every recipe's figures as JSON. */
  out?: string;
}

/** Fixed before any image was drawn. */
const SPLIT_SEED = 1212;
/** The colourings of a pairs.json model's shape pairs, fixed before any image was drawn. */
const COLOURING_SEED = 1213;

/** One prompt of a family, before the split. */
interface FamilyMember {
  objects: ShapeObject[];
  articles: boolean;
}

/**
 * A family of prompts, in groups that the split keeps together: one prompt each, or every colouring of one shape
 * pair (so the test half never shares a shape pair with the selection half).
 */
export interface PromptFamily {
  name: string;
  groups: FamilyMember[][];
}

interface FamilyPrompt {
  family: string;
  objects: ShapeObject[];
  text: string;
  marks: { word: string; start: number; end: number }[];
  half: 'selection' | 'test';
}

function promptOf(p: FamilyMember): { text: string; marks: FamilyPrompt['marks'] } {
  const { text, objects } = listPrompt(p.objects, p.articles);
  return { text, marks: objects };
}

/**
 * tiny-shapes' families, where every colour-shape pair was seen in training: distinct pairs, pairs sharing a
 * colour or a shape, three objects (the first three shapes in three distinct colours), and the distinct pairs
 * without articles (off the training captions' template).
 */
export function compositionFamilies({ colours, shapes }: Vocabulary = TINY_SHAPES): PromptFamily[] {
  const names = ['distinct pairs', 'sharing a colour', 'sharing a shape', 'three objects', 'article-less pairs'];
  const byName = new Map<string, FamilyMember[][]>(names.map((f) => [f, []]));
  const all = colours.flatMap((colour) => shapes.map((shape) => ({ colour, shape })));
  all.forEach((a, i) => all.slice(i + 1).forEach((b) => {
    const family = a.colour === b.colour ? 'sharing a colour' : a.shape === b.shape ? 'sharing a shape' : 'distinct pairs';
    byName.get(family)?.push([{ objects: [a, b], articles: true }]);
    if (family === 'distinct pairs') byName.get('article-less pairs')?.push([{ objects: [a, b], articles: false }]);
  }));
  for (const a of colours) for (const b of colours) for (const c of colours) {
    if (a !== b && b !== c && a !== c) byName.get('three objects')?.push([{ objects: [{ colour: a, shape: shapes[0] }, { colour: b, shape: shapes[1] }, { colour: c, shape: shapes[2] }], articles: true }]);
  }
  return names.map((name) => ({ name, groups: byName.get(name) ?? [] }));
}

/**
 * A model trained with shape pairs held out (its pairs.json): the pairs it saw together and the ones it never
 * saw, each shape pair in `perPair` colourings of the training captions' template ("a red star and a blue ring").
 */
export function pairsFamilies(pairs: Pick<PairsFile, 'colours' | 'seen_pairs' | 'held_out_pairs'>, perPair: number): PromptFamily[] {
  const rng = new Rng(COLOURING_SEED);
  const family = (name: string, shapePairs: [string, string][]): PromptFamily => ({
    name,
    groups: shapePairs.map((p) => colourings(p, pairs.colours, perPair, rng).map((objects) => ({ objects, articles: true }))),
  });
  return [family('seen pairs', pairs.seen_pairs), family('unseen pairs', pairs.held_out_pairs)];
}

/** Each family's groups cut into a selection and a test half by one seeded shuffle, before any image is drawn. */
export function familyPrompts(families: PromptFamily[] = compositionFamilies()): FamilyPrompt[] {
  const rng = new Rng(SPLIT_SEED);
  return families.flatMap(({ name, groups }) => {
    const shuffled = [...groups];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rng.nextFloat64() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    return shuffled.flatMap((group, i) =>
      group.map((p): FamilyPrompt => ({ family: name, objects: p.objects, ...promptOf(p), half: i < shuffled.length / 2 ? 'selection' : 'test' })),
    );
  });
}

/** Every candidate: layer sets by grid and by name, head mean or max, each statistic, each step window. */
export function candidateRecipes(): ScoreRecipe[] {
  const layerSets: RecipeLayers[] = [
    { grids: ['16x16'] },
    { grids: ['8x8'] },
    {},
    { names: ['down_blocks.0'] },
    { names: ['down_blocks.1'] },
    { names: ['mid_block'] },
    { names: ['up_blocks.0'] },
    { names: ['up_blocks.1'] },
  ];
  const windows = ['1', '1-3', '1-5', 'first-half', 'middle', 'second-half', 'last-5', 'last', 'all'];
  const statistics: RecipeStatistic[] = ['activation', 'mean-attention', 'separate', 'enhance', 'loss'];
  return layerSets.flatMap((layers) =>
    (['mean', 'max'] as const).flatMap((heads) => statistics.flatMap((statistic) => windows.map((steps) => ({ layers, heads, steps, statistic })))),
  );
}

interface ImageRecord {
  prompt: FamilyPrompt;
  seed: number;
  success: boolean;
  found: boolean[];
  /** Per recipe (candidate order): the windowed values (per object, or one). */
  values: number[][];
}

/** A value where higher means worse, so every AUROC reads "failures score higher". */
function badness(recipe: ScoreRecipe, values: number[]): number {
  return lowerIsWorse(recipe.statistic) ? -Math.min(...values) : values[0];
}

interface Figures {
  within: number;
  withinSe: number;
  withinCounts: [number, number];
  prompt: number;
  promptSe: number;
  promptCounts: [number, number];
  image: number;
}

/** Within prompts: each prompt's failures against its own successes, weighted by its pairs; SE from the pooled counts. */
function figures(records: ImageRecord[], r: number, recipe: ScoreRecipe): Figures {
  const byPrompt = new Map<string, ImageRecord[]>();
  for (const rec of records) byPrompt.set(rec.prompt.text, [...(byPrompt.get(rec.prompt.text) ?? []), rec]);
  let weighted = 0;
  let pairs = 0;
  let [bad, good] = [0, 0];
  const promptScores: { score: number; risky: boolean }[] = [];
  for (const rs of byPrompt.values()) {
    const f = rs.filter((x) => !x.success).map((x) => badness(recipe, x.values[r]));
    const s = rs.filter((x) => x.success).map((x) => badness(recipe, x.values[r]));
    if (f.length > 0 && s.length > 0) {
      weighted += auroc(f, s) * f.length * s.length;
      pairs += f.length * s.length;
      bad += f.length;
      good += s.length;
    }
    promptScores.push({ score: rs.reduce((a, x) => a + badness(recipe, x.values[r]), 0) / rs.length, risky: f.length >= rs.length / 2 });
  }
  const within = pairs === 0 ? NaN : weighted / pairs;
  const risky = promptScores.filter((p) => p.risky).map((p) => p.score);
  const safe = promptScores.filter((p) => !p.risky).map((p) => p.score);
  const prompt = auroc(risky, safe);
  const image = auroc(records.filter((x) => !x.success).map((x) => badness(recipe, x.values[r])), records.filter((x) => x.success).map((x) => badness(recipe, x.values[r])));
  return {
    within,
    withinSe: aurocStandardError(within, bad, good),
    withinCounts: [bad, good],
    prompt,
    promptSe: aurocStandardError(prompt, risky.length, safe.length),
    promptCounts: [risky.length, safe.length],
    image,
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

const f2 = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(2));
const withSe = (v: number, se: number): string => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(2)} ± ${se.toFixed(2)}`);

export async function measureRecipes(pipeline: Pipeline, options: RecipeQualityOptions): Promise<void> {
  const recipes = candidateRecipes();
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const prompts = familyPrompts(options.families);
  const familyNames = options.families.map((f) => f.name);
  const records: ImageRecord[] = [];
  const specs: SeriesSpec[] = [...new Map(recipes.map((r) => [seriesKey(r), { layers: r.layers, heads: r.heads, statistic: r.statistic }])).values()];
  let catalogueSpecs: SeriesSpec[] | undefined;
  for (const prompt of prompts) {
    const tokenized = pipeline.tokenizer.encode(prompt.text);
    const objectTokens = prompt.marks.map((m) => pipeline.tokenizer.tokenIndicesForSpan(tokenized, m.start, m.end));
    for (let seed = options.firstSeed; seed < options.firstSeed + options.seeds; seed++) {
      let series: RecipeSeries | undefined;
      const out = await pipeline.generate(
        { prompt: prompt.text, negativePrompt: '', seed, steps: options.steps, guidance: options.guidance, eta: 0 },
        {
          onAttention: (captures) => {
            if (!series) {
              const catalogue = captures.map((c) => ({ name: c.layer, gridH: c.gridH, gridW: c.gridW, heads: c.heads }));
              // Combinations the model cannot take (heads 'max' over layers with different head counts) drop out once.
              catalogueSpecs ??= specs.filter((spec) => {
                try {
                  new RecipeSeries(catalogue, objectTokens, [spec]);
                  return true;
                } catch {
                  return false;
                }
              });
              series = new RecipeSeries(catalogue, objectTokens, catalogueSpecs);
            }
            series.addStep(captures);
          },
        },
      );
      const verdict = options.detect(out.image, prompt.objects);
      const done = series as RecipeSeries;
      const kept = new Set((catalogueSpecs ?? []).map(seriesKey));
      records.push({
        prompt,
        seed,
        ...verdict,
        values: recipes.map((r) => (kept.has(seriesKey(r)) ? windowMean(done.series(r), stepWindow(r.steps, options.steps)) : [NaN])),
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const usable = recipes.map((r, i) => ({ recipe: r, index: i })).filter(({ index }) => records.every((x) => !Number.isNaN(x.values[index][0])));
  const selection = records.filter((x) => x.prompt.half === 'selection');
  const test = records.filter((x) => x.prompt.half === 'test');
  const scored = usable.map((u) => ({ ...u, selection: figures(selection, u.index, u.recipe), test: figures(test, u.index, u.recipe) }));

  const failure = scored.filter((s) => isPerObject(s.recipe.statistic)).reduce((a, b) => (b.selection.within > a.selection.within ? b : a));
  // The risk score may be any statistic of the early steps: per object (the weakest counts) or per image (an S&E loss term).
  const early = scored.filter((s) => stepWindow(s.recipe.steps, options.steps).to < 5);
  const risk = early.reduce((a, b) => (b.selection.prompt > a.selection.prompt ? b : a));
  const foundScores = selection.flatMap((x) => x.values[failure.index].filter((_, k) => x.found[k]));
  const failureThreshold = Number(quantile(foundScores, 0.1).toFixed(3));
  // Nine in ten successful images of the selection half score on the safe side of it.
  const successBadness = selection.filter((x) => x.success).map((x) => badness(risk.recipe, x.values[risk.index]));
  const riskThreshold = Number(Math.abs(quantile(successBadness, 0.9)).toFixed(3));

  console.log('');
  console.log(`Score recipes: ${prompts.length} prompts in ${familyNames.length} families x ${options.seeds} seeds = ${records.length} images, ${usable.length} recipes, ${seconds.toFixed(0)} s (${cpuSeconds.toFixed(0)} s of CPU)`);
  for (const family of familyNames) {
    const rs = records.filter((x) => x.prompt.family === family);
    const halves = (['selection', 'test'] as const).map((h) => {
      const hs = rs.filter((x) => x.prompt.half === h);
      return `${h} ${new Set(hs.map((x) => x.prompt.text)).size} prompts, ${hs.filter((x) => !x.success).length}/${hs.length} failed`;
    });
    console.log(`  ${family}: ${halves.join('; ')}`);
  }
  const row = (s: (typeof scored)[number]): string =>
    `| ${recipeName(s.recipe)} | ${withSe(s.selection.within, s.selection.withinSe)} | ${withSe(s.selection.prompt, s.selection.promptSe)} | ${withSe(s.test.within, s.test.withinSe)} | ${withSe(s.test.prompt, s.test.promptSe)} | ${f2(s.test.image)} |`;
  const header = ['| recipe (statistic/layers/heads/steps) | selection: within prompts | selection: prompt level | test: within prompts | test: prompt level | test: all images |', '|---|---|---|---|---|---|'];
  console.log('\nBest 12 recipes by within-prompt AUROC on the selection half (AUROC ± Hanley-McNeil SE; within: failures vs successes of the same prompt; prompt level: prompts where at least half the seeds fail vs the rest, on the mean over seeds):');
  for (const line of [...header, ...[...scored].sort((a, b) => b.selection.within - a.selection.within).slice(0, 12).map(row)]) console.log(line);
  console.log('\nBest 8 early recipes (steps 1-5 at most, any statistic) by prompt-level AUROC on the selection half:');
  for (const line of [...header, ...[...early].sort((a, b) => b.selection.prompt - a.selection.prompt).slice(0, 8).map(row)]) console.log(line);
  const reference = (name: string): (typeof scored)[number] | undefined => scored.find((s) => recipeName(s.recipe) === name);
  console.log('\nReference recipes: the run record\'s S&E loss (16x16, per head, middle step) and its terms:');
  console.log([...header, ...['loss/16x16/max/middle', 'separate/16x16/max/middle', 'enhance/16x16/max/middle', 'activation/16x16/max/middle', 'loss/16x16/max/1-5', 'loss/16x16/max/last'].flatMap((n) => reference(n) ?? []).map(row)].join('\n'));

  console.log(`\nChosen on the selection half: failure recipe ${recipeName(failure.recipe)}, threshold ${failureThreshold} (10th percentile of objects the detector found); risk recipe ${recipeName(risk.recipe)}, threshold ${riskThreshold} (9 in 10 successful images on its safe side)`);
  console.log('Test half, per family:');
  console.log('| family | failed / images | failure score, within prompts | failure score, all images | risk score, prompt level (at-risk / safe prompts) |');
  console.log('|---|---|---|---|---|');
  for (const family of [...familyNames, 'all families']) {
    const rs = test.filter((x) => family === 'all families' || x.prompt.family === family);
    const ff = figures(rs, failure.index, failure.recipe);
    const rf = figures(rs, risk.index, risk.recipe);
    console.log(`| ${family} | ${rs.filter((x) => !x.success).length} / ${rs.length} | ${withSe(ff.within, ff.withinSe)} (${ff.withinCounts.join(' / ')}) | ${f2(ff.image)} | ${withSe(rf.prompt, rf.promptSe)} (${rf.promptCounts.join(' / ')}) |`);
  }
  const share = (values: boolean[]): string => `${((100 * values.filter(Boolean).length) / Math.max(1, values.length)).toFixed(0)}% of ${values.length}`;
  const objectsFound = test.flatMap((x) => x.values[failure.index].map((v, k) => ({ v, found: x.found[k] })));
  console.log(`Test half, thresholds: objects found scoring >= ${failureThreshold}: ${share(objectsFound.filter((o) => o.found).map((o) => o.v >= failureThreshold))}; objects not found scoring below: ${share(objectsFound.filter((o) => !o.found).map((o) => o.v < failureThreshold))}`);
  // At risk: below the threshold for a per-object statistic (the weakest object fades), above it for a loss.
  const atRisk = (x: ImageRecord): boolean => (lowerIsWorse(risk.recipe.statistic) ? Math.min(...x.values[risk.index]) < riskThreshold : x.values[risk.index][0] > riskThreshold);
  console.log(`  risk threshold ${riskThreshold} (${lowerIsWorse(risk.recipe.statistic) ? 'at risk below it' : 'at risk above it'}): successful images not at risk: ${share(test.filter((x) => x.success).map((x) => !atRisk(x)))}; failed images at risk: ${share(test.filter((x) => !x.success).map(atRisk))}`);
  const targets = figures(test, failure.index, failure.recipe).within >= 0.85 && figures(test, risk.index, risk.recipe).prompt >= 0.9;
  console.log(`Targets on the test half (within prompts >= 0.85, prompt level >= 0.9): ${targets ? 'met' : 'not met'}`);
  console.log(`prompt_lens.json "scores": ${JSON.stringify({ failure: { ...failure.recipe, threshold: failureThreshold }, risk: { ...risk.recipe, threshold: riskThreshold } })}`);
  if (options.out) {
    await fs.writeFile(options.out, JSON.stringify(scored.map((s) => ({ recipe: recipeName(s.recipe), selection: s.selection, test: s.test })), null, 1));
  }
}
