// Closed vocabularies (the embedded model knows a few dozen words) and spelling suggestions.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** A vocabulary this small was built from a fixed caption set: words outside it mean nothing to the model. */
export const CLOSED_VOCABULARY_LIMIT = 5000;

/**
 * The whole words of a vocabulary.json: tokens ending in `</w>` made of two or more letters
 * (single letters are byte tokens every CLIP vocabulary holds), sorted.
 */
export function vocabularyWords(vocab: Record<string, unknown>): string[] {
  const words = new Set<string>();
  for (const token of Object.keys(vocab)) {
    if (!token.endsWith('</w>')) continue;
    const body = token.slice(0, -4);
    if (/^\p{L}{2,}$/u.test(body)) words.add(body);
  }
  return [...words].sort();
}

/** Reads the word list of a tokenizer folder's vocab.json. */
export async function readVocabularyWords(tokenizerDir: string): Promise<string[]> {
  const vocab: unknown = JSON.parse(await readFile(path.join(tokenizerDir, 'vocab.json'), 'utf8'));
  return typeof vocab === 'object' && vocab !== null ? vocabularyWords(vocab as Record<string, unknown>) : [];
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], before[j - 2] + 1);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The `count` vocabulary words closest to `word` (case-insensitive edit distance, an adjacent swap
 * counting as one edit), nearest first; ties prefer the same first letter, then a similar length.
 */
export function nearestWords(word: string, vocabulary: readonly string[], count = 3): string[] {
  const w = word.toLowerCase();
  return vocabulary
    .map((v) => ({ v, d: editDistance(w, v), first: v[0] === w[0] ? 0 : 1, len: Math.abs(v.length - w.length) }))
    .sort((x, y) => x.d - y.d || x.first - y.first || x.len - y.len || (x.v < y.v ? -1 : 1))
    .slice(0, count)
    .map((x) => x.v);
}

/** `replacement` written with the capitalisation of `original` (all caps, a capital first letter, or as is). */
export function matchCase(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) return replacement.toUpperCase();
  if (original[0] && original[0] !== original[0].toLowerCase()) return replacement[0].toUpperCase() + replacement.slice(1);
  return replacement;
}

/** Colour and shape names a prompt may use: an unknown one is only ever replaced by a known word of the same kind. */
const KINDS: Record<'colour' | 'shape', ReadonlySet<string>> = {
  colour: new Set(
    'red green blue yellow grey gray black white orange purple violet pink brown cyan magenta teal turquoise navy maroon beige gold golden silver indigo lime olive crimson scarlet'.split(' '),
  ),
  shape: new Set(
    'circle circles square squares triangle triangles rectangle rectangles oval ovals ellipse star stars heart hearts diamond diamonds hexagon pentagon octagon cross crescent ring rings disc disk dot dots sphere cube cone cylinder pyramid box'.split(' '),
  ),
};

export type WordKind = keyof typeof KINDS;

export function wordKind(word: string): WordKind | undefined {
  const w = word.toLowerCase();
  return (Object.keys(KINDS) as WordKind[]).find((kind) => KINDS[kind].has(w));
}

/**
 * Replacements for a word outside a closed vocabulary: close spellings (at most one edit per three letters), of the
 * same kind when the word is a colour or a shape; a colour or shape the vocabulary lacks gets the vocabulary's own
 * words of that kind. Anything else gets none (a far-off word would only mislead).
 */
export function vocabularySuggestions(word: string, vocabulary: readonly string[], count = 3): { words: string[]; by: 'spelling' | WordKind } {
  const kind = wordKind(word);
  const sameKind = kind ? vocabulary.filter((v) => wordKind(v) === kind) : vocabulary;
  const limit = Math.max(1, Math.floor(word.length / 3));
  const close = nearestWords(word, sameKind, count).filter((v) => editDistance(word.toLowerCase(), v) <= limit);
  if (close.length > 0 || !kind) return { words: close, by: 'spelling' };
  // Plurals left out: "blue circles" is not what a colour or single shape stands for.
  return { words: sameKind.filter((v) => !(v.endsWith('s') && sameKind.includes(v.slice(0, -1)))), by: kind };
}
