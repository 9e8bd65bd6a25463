/**
 * Picking the K object maps the scores work on out of word maps,
 * and head averaging for scores defined on head-averaged maps.
 */
import type { MapStack, WordMaps } from './types';

function pick(
  data: Float32Array,
  heads: number,
  count: number,
  height: number,
  width: number,
  indices: readonly number[],
): MapStack {
  const hw = height * width;
  const out = new Float32Array(heads * indices.length * hw);
  for (let h = 0; h < heads; h++) {
    indices.forEach((idx, k) => {
      const src = (h * count + idx) * hw;
      out.set(data.subarray(src, src + hw), (h * indices.length + k) * hw);
    });
  }
  return { height, width, heads, count: indices.length, data: out };
}

/** Index of `word` in `maps.words` (exact, else case-insensitive); throws listing the prompt's words. */
export function wordIndex(maps: WordMaps, word: string): number {
  let i = maps.words.indexOf(word);
  if (i < 0) i = maps.words.findIndex((w) => w.toLowerCase() === word.toLowerCase());
  if (i < 0) throw new Error(`'${word}' is not in the prompt; its words are: ${maps.words.join(', ')}`);
  return i;
}

/** The maps of the given words, in that order. */
export function pickWords(maps: WordMaps, words: readonly string[]): MapStack {
  const indices = words.map((w) => wordIndex(maps, w));
  return pick(maps.data, maps.heads, maps.words.length, maps.height, maps.width, indices);
}

/** Mean over heads, keeping the layout with heads = 1. */
export function meanHeads(stack: MapStack): MapStack {
  if (stack.heads === 1) return stack;
  const n = stack.count * stack.height * stack.width;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let h = 0; h < stack.heads; h++) s += stack.data[h * n + i];
    out[i] = s / stack.heads;
  }
  return { ...stack, heads: 1, data: out };
}
