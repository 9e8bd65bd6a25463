/**
 * Token maps -> word maps. A word split into sub-word tokens, or repeated in
 * the prompt, gets the mean of all its tokens' maps over all occurrences
 * (DAAM's merge). Start/end tokens are added by index only when asked for,
 * since they soak up most of the attention and would dominate a display.
 */
import type { TokenMaps, WordMaps } from './types';

export interface WordSpan {
  readonly word: string;
  /** Token positions of this occurrence (start token at 0). */
  readonly tokenIndices: readonly number[];
}

export interface SpecialToken {
  /** Display label, e.g. `<start>` or `<end>`. */
  readonly label: string;
  readonly index: number;
}

export type Normalisation = 'absolute' | 'per-map';

export interface WordOptions {
  /** Extra single-token maps appended after the words, e.g. `[{ label: '<start>', index: 0 }]`. */
  readonly specials?: readonly SpecialToken[];
  /** `'absolute'` (default) keeps probabilities; `'per-map'` divides each map by its own max. */
  readonly normalise?: Normalisation;
}

export function mergeWords(maps: TokenMaps, spans: readonly WordSpan[], options: WordOptions = {}): WordMaps {
  const groups = new Map<string, number[]>();
  for (const span of spans) {
    if (span.tokenIndices.length === 0) throw new Error(`word '${span.word}' has no tokens`);
    for (const t of span.tokenIndices) {
      if (!Number.isInteger(t) || t < 0 || t >= maps.tokens) {
        throw new Error(`word '${span.word}': token index ${t} is out of range 0..${maps.tokens - 1}`);
      }
    }
    const g = groups.get(span.word) ?? [];
    g.push(...span.tokenIndices);
    groups.set(span.word, g);
  }
  for (const s of options.specials ?? []) {
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= maps.tokens) {
      throw new Error(`special token '${s.label}': index ${s.index} is out of range 0..${maps.tokens - 1}`);
    }
    if (groups.has(s.label)) throw new Error(`special token label '${s.label}' clashes with a word`);
    groups.set(s.label, [s.index]);
  }
  const words = [...groups.keys()];
  const hw = maps.height * maps.width;
  const data = new Float32Array(maps.heads * words.length * hw);
  for (let h = 0; h < maps.heads; h++) {
    words.forEach((w, k) => {
      const idx = groups.get(w)!;
      const dst = (h * words.length + k) * hw;
      for (let p = 0; p < hw; p++) {
        let s = 0;
        for (const t of idx) s += maps.data[(h * maps.tokens + t) * hw + p];
        data[dst + p] = s / idx.length;
      }
    });
  }
  const merged: WordMaps = { height: maps.height, width: maps.width, heads: maps.heads, words, data };
  return options.normalise === 'per-map' ? normalisePerMap(merged) : merged;
}

/** Divides every (head, word) map by its own max. */
export function normalisePerMap<T extends { height: number; width: number; data: Float32Array }>(maps: T): T {
  const hw = maps.height * maps.width;
  const data = new Float32Array(maps.data.length);
  for (let base = 0; base < data.length; base += hw) {
    let max = -Infinity;
    for (let p = 0; p < hw; p++) max = Math.max(max, maps.data[base + p]);
    // An all-zero map (a token the clamp wiped out) has no scale; leave it at 0 instead of dividing by 0.
    const inv = max > 0 ? 1 / max : 0;
    for (let p = 0; p < hw; p++) data[base + p] = maps.data[base + p] * inv;
  }
  return { ...maps, data };
}
