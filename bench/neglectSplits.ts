// The benchmarks' prompts, with their object words marked: captions in the training template (quality,
// combinations, score recipes), and the neglect table's (npm run finetune-table) two-object prompts of the
// model's world's colours and shapes with their train/held-out splits, fixed by a seeded shuffle before any
// result is seen.
import { TINY_SHAPES, type DetectorWorld } from '../src/engine/detector';
import { Rng } from '../src/engine/random';
import type { TrainingPrompt } from '../src/engine/finetune/trainer';

export interface ShapeObject {
  colour: string;
  shape: string;
}
export type Pair = [ShapeObject, ShapeObject];

/** The words the prompts are made of: a detector world's colours and shapes. */
export type Vocabulary = Pick<DetectorWorld, 'colours' | 'shapes'>;

/** Prompt templates: without articles (where tiny-shapes neglects the second object), with them, and two others. */
export const TEMPLATES = {
  bare: '{A} and {B}',
  articles: 'a {A} and a {B}',
  with: '{A} with {B}',
  comma: '{A}, {B}',
  single: 'a {A}',
} as const;

const phrase = (o: ShapeObject): string => `${o.colour} ${o.shape}`;

/** Every colour x shape object of the vocabulary, colour-major. */
export function allObjects({ colours, shapes }: Vocabulary): ShapeObject[] {
  return colours.flatMap((colour) => shapes.map((shape) => ({ colour, shape })));
}

/** Every unordered pair of objects with different colours and different shapes (tiny-shapes: 36), in a fixed order. */
export function distinctPairs(vocabulary: Vocabulary = TINY_SHAPES): Pair[] {
  const objects = allObjects(vocabulary);
  const pairs: Pair[] = [];
  objects.forEach((a, i) => objects.slice(i + 1).forEach((b) => {
    if (a.colour !== b.colour && a.shape !== b.shape) pairs.push([a, b]);
  }));
  return pairs;
}

export interface Split {
  train: Pair[];
  heldOut: Pair[];
}

/**
 * `count` disjoint splits of `train` + `heldOut` pairs each from one seeded shuffle of the pairs (each pair's
 * word order drawn too), so no pair is in two splits and nothing depends on results.
 */
export function neglectSplits(count: number, train: number, heldOut: number, seed: number, vocabulary: Vocabulary = TINY_SHAPES): Split[] {
  return splitPairs(distinctPairs(vocabulary), count, train, heldOut, new Rng(seed));
}

/**
 * The unseen-combinations regime (a model with a pairs.json): the shape pairs never seen together in training,
 * each given two different colours from a seeded stream, then split as neglectSplits splits.
 */
export function unseenPairSplits(shapePairs: readonly (readonly [string, string])[], colours: readonly string[], count: number, train: number, heldOut: number, seed: number): Split[] {
  const rng = new Rng(seed);
  return splitPairs(colourPairs(shapePairs, colours, rng), count, train, heldOut, rng);
}

/** Each shape pair with two different colours drawn from `rng`, in the given order. */
export function colourPairs(shapePairs: readonly (readonly [string, string])[], colours: readonly string[], rng: Rng): Pair[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.nextFloat64() * xs.length)];
  return shapePairs.map(([a, b]) => {
    const first = pick(colours);
    return [{ colour: first, shape: a }, { colour: pick(colours.filter((c) => c !== first)), shape: b }];
  });
}

function splitPairs(pairs: Pair[], count: number, train: number, heldOut: number, rng: Rng): Split[] {
  if (count * (train + heldOut) > pairs.length) throw new Error(`${count} splits of ${train} + ${heldOut} need more than the ${pairs.length} pairs`);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat64() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const ordered = pairs.map((p): Pair => (rng.nextFloat64() < 0.5 ? p : [p[1], p[0]]));
  return Array.from({ length: count }, (_, k) => {
    const start = k * (train + heldOut);
    return { train: ordered.slice(start, start + train), heldOut: ordered.slice(start + train, start + train + heldOut) };
  });
}

/** Which words of an object a prompt marks: its shape word (the default), its colour word, or both ("red star"). */
export type MarkedWords = 'shape' | 'colour' | 'phrase';

/** A prompt from a template, with each object's words marked (their character span), as a user marks them. */
export function markedPrompt(template: string, objects: ShapeObject[], marked: MarkedWords = 'shape'): TrainingPrompt {
  let text = template;
  const marks: { word: string; start: number; end: number }[] = [];
  objects.forEach((o, i) => {
    const slot = i === 0 ? '{A}' : '{B}';
    const at = text.indexOf(slot);
    text = text.replace(slot, phrase(o));
    const shapeAt = at + o.colour.length + 1;
    if (marked === 'shape') marks.push({ word: o.shape, start: shapeAt, end: shapeAt + o.shape.length });
    else if (marked === 'colour') marks.push({ word: o.colour, start: at, end: at + o.colour.length });
    else marks.push({ word: phrase(o), start: at, end: shapeAt + o.shape.length });
  });
  return { text, objects: marks };
}

/**
 * The training captions' form, with or without articles: "a red circle", "a red circle and a blue square",
 * "a red circle, a green square and a blue triangle"; each shape word marked (its character span).
 */
export function listPrompt(objects: readonly ShapeObject[], articles = true): TrainingPrompt {
  const phrases = objects.map((o) => `${articles ? 'a ' : ''}${phrase(o)}`);
  const text = phrases.length <= 2 ? phrases.join(' and ') : `${phrases.slice(0, -1).join(', ')} and ${phrases[phrases.length - 1]}`;
  let from = 0;
  const marks = objects.map((o) => {
    const start = text.indexOf(o.shape, text.indexOf(o.colour, from));
    from = start + o.shape.length;
    return { word: o.shape, start, end: from };
  });
  return { text, objects: marks };
}

/** "red circle|blue square;…", the PyTorch reference's --pairs syntax. */
export function referencePairs(pairs: Pair[]): string {
  return pairs.map(([a, b]) => `${phrase(a)}|${phrase(b)}`).join(';');
}

export function describePair([a, b]: Pair): string {
  return `${phrase(a)} + ${phrase(b)}`;
}
