// The paper's table in miniature (docs/method.md §4-5) on a model's own neglect regime:
//  - article-less (tiny-shapes): two-object prompts written without articles ("red circle and blue square"),
//    where tiny-shapes drops the second object; splits are a seeded shuffle of the 36 pairs with distinct
//    colours and shapes (bench/neglectSplits.ts);
//  - unseen combinations (a model with a pairs.json, neglect-shapes): ordinary prompts with articles ("a red
//    star and a blue ring") of the shape pairs the model never saw together in training, coloured and split by
//    a seeded shuffle.
// Pre-registered splits into disjoint train/held-out sets; per split, the engine's finetune (full UNet gradient)
// and the PyTorch full-autograd reference (python3 -m prompt_lens_py.reference.finetune --model <model>) train on the same pairs with the same
// settings; every column samples the same prompts and seeds with the model's recommended sampling settings,
// scored by the detector; McNemar exact p-values against the base model, per split and pooled. Controls:
// single objects and, per regime, the held-out pairs in other templates or the pairs seen in training.
//   npm run finetune-table [-- --model DIR --splits 3 --seeds 16 --train-seeds 0 --lr X --train-steps N --norm-weight W --grid G --loss-layers mid_block --head-mean --mark shape|colour|phrase
//                             --choose-lr 1e-4,3e-4 --no-reference --reference-weights FILE --python /usr/bin/python3 --json FILE]
// --reference-weights: the PyTorch weights the model's ONNX files were exported from, when they are not the
// reference's default (<model>/train/weights-fp16.pt), e.g. a snapshot of a training still running.
// --train-seeds: finetune each split once per training seed (its draws of t and noise), engine and reference alike;
// the columns pool every seed's images, each paired with the same base image.
// --choose-lr: on split 1 only, the engine at each rate (training pairs and single objects), then stops.
import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkImage, type DetectorWorld } from '../src/engine/detector';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor, type FinetuneOptions } from '../src/engine/finetune/trainer';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { readModelDefaults, readModelDetectorWorld, readModelFinetune } from '../src/engine/model/modelDefaults';
import { loadOriginalKeys, transpose } from '../src/engine/onnx/instrument';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { Rng } from '../src/engine/random';
import { decodeSafetensors, halfsToFloats } from '../src/engine/safetensors';
import { discordant, mcnemarExact } from './mcnemar';
import { outcomeOf, type Outcome } from './outcome';
import { readPairsFile, type PairsFile } from './pairsFile';
import { allObjects, colourPairs, describePair, markedPrompt, neglectSplits, referencePairs, TEMPLATES, unseenPairSplits, type MarkedWords, type Pair, type ShapeObject, type Split } from './neglectSplits';

const ROOT = path.resolve(__dirname, '..', '..');
const SPLIT_SEED = 2312;

interface Options {
  splits: number;
  seeds: number;
  trainSeeds: number[];
  lr?: number;
  trainSteps?: number;
  normWeight?: number;
  /** Query grid of the layers the loss reads (default: the grid nearest 16). */
  grid?: number;
  /** Module-name prefixes narrowing the loss's layers, and head-averaged maps (the engine only). */
  layerNames?: string[];
  headMean: boolean;
  /** The words the finetune marks as each object's (the engine only: the reference marks shape words). */
  marked: MarkedWords;
  chooseLr?: number[];
  reference: boolean;
  referenceWeights?: string;
  python: string;
  json?: string;
  model: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { splits: 3, seeds: 16, trainSeeds: [0], marked: 'shape', headMean: false, reference: true, python: '/usr/bin/python3', model: path.join(ROOT, 'models', 'tiny-shapes') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => argv[++i];
    if (flag === '--splits') o.splits = Number(value());
    else if (flag === '--seeds') o.seeds = Number(value());
    else if (flag === '--train-seeds') o.trainSeeds = value().split(',').map(Number);
    else if (flag === '--lr') o.lr = Number(value());
    else if (flag === '--train-steps') o.trainSteps = Number(value());
    else if (flag === '--norm-weight') o.normWeight = Number(value());
    else if (flag === '--grid') o.grid = Number(value());
    else if (flag === '--loss-layers') o.layerNames = value().split(',');
    else if (flag === '--head-mean') o.headMean = true;
    else if (flag === '--mark') {
      const marked = value();
      if (marked !== 'shape' && marked !== 'colour' && marked !== 'phrase') throw new Error(`--mark: shape, colour or phrase, got ${marked}`);
      o.marked = marked;
    }
    else if (flag === '--choose-lr') o.chooseLr = value().split(',').map(Number);
    else if (flag === '--no-reference') o.reference = false;
    else if (flag === '--reference-weights') o.referenceWeights = path.resolve(value());
    else if (flag === '--python') o.python = value();
    else if (flag === '--json') o.json = path.resolve(value());
    else if (flag === '--model') o.model = path.resolve(value());
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

/** One evaluation row: prompts (objects and template) sampled at `seeds` seeds each. */
interface Row {
  label: string;
  prompts: { objects: ShapeObject[]; template: string }[];
  seeds: number;
}

/** A regime: its splits, the template the finetune trains on, the rows every column samples. */
interface TableDesign {
  regime: string;
  splits: Split[];
  trainTemplate: string;
  rows(split: Split, seeds: number): Row[];
  /** The labels of the rows trained on and held out (compared engine against reference at the end). */
  trained: string;
  heldOut: string;
}

const SINGLES = 'control: single objects';
const ofPairs = (pairs: Pair[], template: string) => pairs.map((objects) => ({ objects, template }));
const singlesRow = (world: DetectorWorld, seeds: number): Row => ({
  label: SINGLES,
  prompts: allObjects(world).map((o) => ({ objects: [o], template: TEMPLATES.single })),
  seeds: Math.max(1, Math.round(seeds / 4)),
});

/** tiny-shapes: composes well with articles, neglects the second object without them. */
function articleLessDesign(count: number, world: DetectorWorld): TableDesign {
  const trained = 'no articles, training pairs';
  const heldOut = 'no articles, held-out pairs';
  return {
    regime: 'article-less prompts ("red circle and blue square"), off the captions\' template',
    splits: neglectSplits(count, 6, 6, SPLIT_SEED, world),
    trainTemplate: TEMPLATES.bare,
    trained,
    heldOut,
    rows(split, seeds) {
      const control = Math.max(1, Math.round(seeds / 2));
      return [
        { label: trained, prompts: ofPairs(split.train, TEMPLATES.bare), seeds },
        { label: heldOut, prompts: ofPairs(split.heldOut, TEMPLATES.bare), seeds },
        { label: 'control: held-out pairs with articles', prompts: ofPairs(split.heldOut, TEMPLATES.articles), seeds: control },
        singlesRow(world, seeds),
        { label: 'template "A with B", held-out pairs', prompts: ofPairs(split.heldOut, TEMPLATES.with), seeds: control },
        { label: 'template "A, B", held-out pairs', prompts: ofPairs(split.heldOut, TEMPLATES.comma), seeds: control },
      ];
    },
  };
}

/**
 * A model trained with most shape pairs held out (neglect-shapes): ordinary prompts with articles of the pairs it
 * never saw together, 5 trained on and 5 held out per split; controls: the pairs it saw, and single objects.
 */
function unseenPairsDesign(count: number, world: DetectorWorld, pairs: PairsFile): TableDesign {
  const trained = 'unseen pairs, trained on';
  const heldOut = 'unseen pairs, held out';
  const seen = colourPairs(pairs.seen_pairs, world.colours, new Rng(SPLIT_SEED + 1));
  return {
    regime: `ordinary prompts ("a red star and a blue ring") of the ${pairs.held_out_pairs.length} shape pairs never seen together in training`,
    splits: unseenPairSplits(pairs.held_out_pairs, world.colours, count, 5, 5, SPLIT_SEED),
    trainTemplate: TEMPLATES.articles,
    trained,
    heldOut,
    rows(split, seeds) {
      return [
        { label: trained, prompts: ofPairs(split.train, TEMPLATES.articles), seeds },
        { label: heldOut, prompts: ofPairs(split.heldOut, TEMPLATES.articles), seeds },
        { label: 'control: pairs seen in training', prompts: ofPairs(seen, TEMPLATES.articles), seeds: Math.max(1, Math.round(seeds / 2)) },
        singlesRow(world, seeds),
      ];
    },
  };
}

async function designFor(model: string, count: number, world: DetectorWorld): Promise<TableDesign> {
  const pairs = await readPairsFile(model, world);
  return pairs ? unseenPairsDesign(count, world, pairs) : articleLessDesign(count, world);
}

/** The model's recommended sampling (its prompt_lens.json defaults), which every column uses. */
interface Sampling {
  steps: number;
  guidance: number;
}

/** Detector success of every (prompt, seed) of a row, in a fixed order, so columns pair up image by image. */
async function judged({ pipeline, world, sampling }: Model, row: Row, keys: Map<string, Float32Array> | undefined): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const { objects, template } of row.prompts) {
    const prompt = markedPrompt(template, objects).text;
    for (let first = 0; first < row.seeds; first += pipeline.batchLimit()) {
      const seeds = Array.from({ length: Math.min(pipeline.batchLimit(), row.seeds - first) }, (_, i) => first + i);
      const images = await pipeline.generateBatch(seeds.map((seed) => ({ prompt, negativePrompt: '', seed, ...sampling, eta: 0, ...(keys ? { keys } : {}) })));
      for (const image of images) out.push(outcomeOf(checkImage(image.image, objects, { world })));
    }
  }
  return out;
}

async function outcomes(model: Model, row: Row, keys: Map<string, Float32Array> | undefined): Promise<boolean[]> {
  return (await judged(model, row, keys)).map((o) => o === 'success');
}

/** "success → object missing 7, …": how each image's outcome moved, most frequent first, unchanged ones left out. */
function transitions(before: Outcome[], after: Outcome[]): string {
  const counts = new Map<string, number>();
  before.forEach((b, i) => {
    if (b !== after[i]) counts.set(`${b} → ${after[i]}`, (counts.get(`${b} → ${after[i]}`) ?? 0) + 1);
  });
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

interface Model {
  pipeline: Pipeline;
  world: DetectorWorld;
  sampling: Sampling;
}

/** Diffusers-named to_k weights (torch layout) overlaid on the base keys, in the graph's layout. */
async function referenceKeys(file: string, pipeline: Pipeline): Promise<Map<string, Float32Array>> {
  const keys = await loadOriginalKeys(pipeline.instrumented);
  const { tensors } = decodeSafetensors(await fs.readFile(file), file);
  for (const layer of pipeline.instrumented.layers) {
    const t = tensors.get(`${layer.name}.to_k.weight`);
    if (!t) continue;
    const values = t.data instanceof Uint16Array ? halfsToFloats(t.data) : Float32Array.from(t.data);
    keys.set(layer.name, layer.keyTransposed ? transpose(values, layer.innerDim, layer.textDim) : values);
  }
  return keys;
}

/** The PyTorch reference finetune on the same pairs and settings (one thread, denormals flushed); undefined when it cannot run. */
function runReference(o: Options, pairs: Pair[], template: string, options: FinetuneOptions): { file: string; seconds: number } | { skipped: string } {
  const out = mkdtempSync(path.join(tmpdir(), 'prompt-lens-table-'));
  const args = [
    '-m', 'prompt_lens_py.reference.finetune', '--model', o.model, '--pairs', referencePairs(pairs), '--held-out', '', '--template', template, '--steps', String(options.steps), '--lr', String(options.lr),
    '--batch', String(options.batch), '--norm-weight', String(options.normWeight), '--x0-scale', String(options.x0Scale),
    // The engine's single-object prompts are each object's own words in the training prompt (trainer.singleObjectPrompts).
    '--single-template', '{A}',
    ...(options.grid === undefined ? [] : ['--grid', String(options.grid)]),
    '--seed', String(options.seed), '--eval-every', '0', '--eval-samples', '1', '--threads', '1', '--quiet', '--out', out,
    ...(o.referenceWeights ? ['--weights', o.referenceWeights] : []),
  ];
  const started = performance.now();
  const ran = spawnSync(o.python, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (ran.status !== 0) return { skipped: (ran.stderr || ran.error?.message || `exit ${ran.status}`).trim().split('\n').pop() ?? '' };
  return { file: path.join(out, 'keys.safetensors'), seconds: (performance.now() - started) / 1000 };
}

const percent = (xs: boolean[]): string => `${((100 * xs.filter(Boolean).length) / xs.length).toFixed(1)}%`;

function cell(base: boolean[], after: boolean[]): string {
  const { gained, lost } = discordant(base, after);
  const delta = (100 * (after.filter(Boolean).length - base.filter(Boolean).length)) / base.length;
  return `${percent(after)} (${delta >= 0 ? '+' : ''}${delta.toFixed(1)}, p=${formatP(mcnemarExact(gained, lost))})`;
}

function formatP(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

type Column = 'base' | 'engine' | 'reference';
type Results = Map<string, Partial<Record<Column, boolean[]>>>;

function printTable(title: string, results: Results, n: (label: string) => number): void {
  const columns = (['engine', 'reference'] as Column[]).filter((c) => [...results.values()].some((r) => r[c]));
  console.log(`\n${title}\n`);
  console.log(`| prompts (images) | base | ${columns.join(' | ')} |`);
  console.log(`|---|---|${columns.map(() => '---').join('|')}|`);
  for (const [label, r] of results) {
    const base = r.base as boolean[];
    console.log(`| ${label} (${n(label)}) | ${percent(base)} | ${columns.map((c) => (r[c] ? cell(base, r[c] as boolean[]) : 'n/a')).join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const pipeline = await Pipeline.load(await openModelFolder(o.model));
  const recommended = await readModelFinetune(o.model);
  const world = await readModelDetectorWorld(o.model);
  const defaults = await readModelDefaults(o.model);
  const model: Model = { pipeline, world, sampling: { steps: defaults.steps ?? 20, guidance: defaults.guidance ?? 7.5 } };
  const design = await designFor(o.model, o.splits, world);
  const trainer = await SepEnTrainer.create(pipeline);
  const base: FinetuneOptions = {
    ...defaultFinetuneOptions,
    x0Scale: x0ScaleFor(pipeline),
    lr: o.lr ?? recommended.lr ?? defaultFinetuneOptions.lr,
    steps: o.trainSteps ?? recommended.steps ?? defaultFinetuneOptions.steps,
    normWeight: o.normWeight ?? recommended.normWeight ?? defaultFinetuneOptions.normWeight,
    ...(o.grid === undefined ? {} : { grid: o.grid }),
    ...(o.layerNames ? { layerNames: o.layerNames } : {}),
    ...(o.headMean ? { headMean: true } : {}),
  };
  const { splits } = design;
  console.log(`model ${pipeline.model.id} (${pipeline.model.hash}); splits from seed ${SPLIT_SEED}, fixed before any result:`);
  splits.forEach((s, k) => console.log(`  split ${k + 1}: train ${s.train.map(describePair).join(', ')}; held out ${s.heldOut.map(describePair).join(', ')}`));
  console.log(`regime: ${design.regime}`);
  console.log(`sampling (the model's recommendation): ${model.sampling.steps} DDIM steps, guidance ${model.sampling.guidance}, seeds 0..${o.seeds - 1} for the pair rows; detector strict success`);

  if (o.chooseLr) {
    const splitRows = design.rows(splits[0], o.seeds);
    const [row, singles] = [design.trained, SINGLES].map((label) => splitRows.find((r) => r.label === label) as Row);
    const before = { train: await judged(model, row, undefined), singles: await outcomes(model, singles, undefined) };
    const success = (xs: Outcome[]): boolean[] => xs.map((x) => x === 'success');
    console.log(`\nsplit 1, base: training pairs ${percent(success(before.train))}, single objects ${percent(before.singles)}`);
    for (const lr of o.chooseLr) {
      const trained = await trainer.train(splits[0].train.map((p) => markedPrompt(design.trainTemplate, p, o.marked)), { ...base, lr });
      const after = { train: await judged(model, row, trained.keys), singles: await outcomes(model, singles, trained.keys) };
      const loss = `${trained.curve[0]?.loss.toFixed(3)} → ${trained.curve[trained.curve.length - 1]?.loss.toFixed(3)}`;
      console.log(`split 1, lr ${lr}, ${base.steps} steps, L_norm weight ${base.normWeight}, grid ${base.grid ?? 'default'}${o.layerNames ? ` (${o.layerNames.join(', ')})` : ''}${o.headMean ? ', heads averaged' : ''}, marked ${o.marked} words: training pairs ${cell(success(before.train), success(after.train))}, single objects ${cell(before.singles, after.singles)}; loss ${loss}; training pairs changed: ${transitions(before.train, after.train)}`);
    }
    return;
  }

  console.log(`finetune: ${base.steps} steps, lr ${base.lr}, batch ${base.batch}, L_norm weight ${base.normWeight}, x0 scale ${base.x0Scale}, loss on the ${base.grid ?? 'default'} grid` +
    (o.lr === undefined ? ` (lr and steps: ${recommended.lr !== undefined ? 'the model\'s prompt_lens.json' : 'engine defaults'})` : ''));
  const pooled: Results = new Map();
  const sizes = new Map<string, number>();
  const record: unknown[] = [];
  for (const [k, split] of splits.entries()) {
    const splitRows = design.rows(split, o.seeds);
    const results: Results = new Map();
    const baseOutcomes = new Map<string, boolean[]>();
    for (const row of splitRows) baseOutcomes.set(row.label, await outcomes(model, row, undefined));
    const curves: number[][] = [];
    for (const seed of o.trainSeeds) {
      const options = { ...base, seed };
      const started = performance.now();
      const engine = await trainer.train(split.train.map((p) => markedPrompt(design.trainTemplate, p, o.marked)), options);
      const engineSeconds = (performance.now() - started) / 1000;
      curves.push(engine.curve.map((step) => step.loss));
      const reference = !o.reference ? { skipped: '--no-reference' } : o.marked !== 'shape' || o.layerNames || o.headMean ? { skipped: 'it has the official loss only (shape words, per head, a whole grid)' } : runReference(o, split.train, design.trainTemplate, options);
      const keys: [Column, Map<string, Float32Array>][] = [['engine', engine.keys]];
      if ('file' in reference) keys.push(['reference', await referenceKeys(reference.file, pipeline)]);
      const loss = (c: typeof engine.curve) => `${c[0]?.loss.toFixed(3)} → ${c[c.length - 1]?.loss.toFixed(3)}`;
      console.log(`\nsplit ${k + 1}, training seed ${seed}: engine ${engine.curve.length} steps in ${engineSeconds.toFixed(1)} s (loss ${loss(engine.curve)}${engine.stopped ? `, stopped: ${engine.stopped}` : ''}); ` +
        ('file' in reference ? `reference in ${reference.seconds.toFixed(1)} s` : `reference skipped: ${reference.skipped}`));
      for (const row of splitRows) {
        const r = results.get(row.label) ?? {};
        // Each training seed's images pair with the same base images.
        r.base = [...(r.base ?? []), ...(baseOutcomes.get(row.label) as boolean[])];
        for (const [column, k2] of keys) r[column] = [...(r[column] ?? []), ...(await outcomes(model, row, k2))];
        results.set(row.label, r);
      }
    }
    for (const [label, r] of results) {
      sizes.set(label, (sizes.get(label) ?? 0) + (r.base as boolean[]).length);
      const into = pooled.get(label) ?? {};
      for (const column of Object.keys(r) as Column[]) into[column] = [...(into[column] ?? []), ...(r[column] as boolean[])];
      pooled.set(label, into);
    }
    printTable(`Split ${k + 1}, training seeds ${o.trainSeeds.join(', ')} (success, change in points, McNemar p against base)`, results, (label) => (results.get(label)?.base as boolean[]).length);
    record.push({ split: k + 1, trainSeeds: o.trainSeeds, train: split.train.map(describePair), heldOut: split.heldOut.map(describePair), engineCurves: curves, results: Object.fromEntries(results) });
  }
  printTable(`Pooled over ${splits.length} splits`, pooled, (label) => sizes.get(label) ?? 0);
  for (const label of [design.trained, design.heldOut]) {
    const r = pooled.get(label);
    if (!r?.engine || !r.reference || !r.base) continue;
    const gain = (xs: boolean[]) => xs.filter(Boolean).length - (r.base as boolean[]).filter(Boolean).length;
    console.log(`${label}: engine gain / reference gain = ${gain(r.engine)} / ${gain(r.reference)} images = ${(gain(r.engine) / gain(r.reference)).toFixed(2)}`);
  }
  if (o.json) await fs.writeFile(o.json, JSON.stringify({ options: base, splitSeed: SPLIT_SEED, splits: record }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
