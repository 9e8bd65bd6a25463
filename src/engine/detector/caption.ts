// Caption -> requested objects, in a world's vocabulary (its colour and shape words; default tiny-shapes').
//
// Grammar (case-insensitive; commas and a final full stop are separators):
//   caption := [prefix] object { ("and" | ",") object }
//   object  := ["a" | "an"] [colour] shape
//   prefix  := "a photo of" | "an image of" | "a picture of" | "a drawing of" | "a render of"
// Anything else is reported: words outside the vocabulary in `unknown`, misplaced known words
// (a colour with no shape after it, two shapes in a row, ...) in `problems`. Nothing is silently dropped.
import type { Colour, Shape } from './palette';
import { TINY_SHAPES } from './tinyShapes';
import { type DetectorWorld, isColourOf, isShapeOf } from './world';

export interface RequestedObject {
  /** Absent: any colour will do. */
  colour?: Colour;
  shape: Shape;
}

export interface ParsedCaption {
  objects: RequestedObject[];
  /** Words outside the vocabulary, in caption order (lower-cased). */
  unknown: string[];
  /** Human-readable notes about known words in places the grammar does not allow. */
  problems: string[];
}

const ARTICLES = new Set(['a', 'an']);
const PREFIXES: readonly (readonly string[])[] = [
  ['a', 'photo', 'of'],
  ['an', 'image', 'of'],
  ['a', 'picture', 'of'],
  ['a', 'drawing', 'of'],
  ['a', 'render', 'of'],
];

/** Lower-cased words with "," kept as its own token; a full stop at the end of a word is dropped. */
export function tokenizeCaption(caption: string): string[] {
  const out: string[] = [];
  for (const raw of caption.toLowerCase().split(/\s+/)) {
    for (const part of raw.split(/(,)/)) {
      const word = part.replace(/[.!;:]+$/, '');
      if (word.length > 0) out.push(word);
    }
  }
  return out;
}

export function parseCaption(caption: string, world: DetectorWorld = TINY_SHAPES): ParsedCaption {
  const words = tokenizeCaption(caption);
  const objects: RequestedObject[] = [];
  const unknown: string[] = [];
  const problems: string[] = [];

  let i = 0;
  for (const prefix of PREFIXES) {
    if (prefix.every((w, k) => words[k] === w)) {
      i = prefix.length;
      break;
    }
  }

  // State of the object being read: an article and/or a colour seen, waiting for a shape.
  let article: string | undefined;
  let colour: Colour | undefined;
  // True right after a complete object: the next word must be a separator (or a new article/colour/shape).
  let afterObject = false;

  const flushDangling = (where: string): void => {
    if (colour !== undefined) problems.push(`colour "${colour}" ${where} has no shape after it`);
    else if (article !== undefined) problems.push(`article "${article}" ${where} has no shape after it`);
    article = undefined;
    colour = undefined;
  };

  for (; i < words.length; i++) {
    const w = words[i];
    if (w === ',' || w === 'and') {
      if (!afterObject && colour === undefined && article === undefined) {
        problems.push(`"${w}" at word ${i + 1} does not follow an object`);
      }
      flushDangling(`before "${w}"`);
      afterObject = false;
      continue;
    }
    if (ARTICLES.has(w)) {
      if (colour !== undefined || article !== undefined) flushDangling(`before word ${i + 1}`);
      if (afterObject) problems.push(`objects before word ${i + 1} are not separated by "and" or ","`);
      article = w;
      afterObject = false;
      continue;
    }
    if (isColourOf(world, w)) {
      if (colour !== undefined) problems.push(`two colours in a row ("${colour} ${w}"); keeping "${w}"`);
      if (afterObject && article === undefined) {
        problems.push(`objects before word ${i + 1} are not separated by "and" or ","`);
      }
      colour = w;
      afterObject = false;
      continue;
    }
    if (isShapeOf(world, w)) {
      if (afterObject && article === undefined && colour === undefined) {
        problems.push(`objects before word ${i + 1} are not separated by "and" or ","`);
      }
      objects.push(colour === undefined ? { shape: w } : { colour, shape: w });
      article = undefined;
      colour = undefined;
      afterObject = true;
      continue;
    }
    unknown.push(w);
    // an unknown word between objects ("next to") already gets reported; no extra "not separated" problem
    afterObject = false;
  }
  flushDangling('at the end');
  return { objects, unknown, problems };
}
