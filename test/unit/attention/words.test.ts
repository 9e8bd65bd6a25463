import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeWords } from '../../../src/engine/attention/words';
import { pickWords, wordIndex } from '../../../src/engine/attention/stack';
import type { TokenMaps } from '../../../src/engine/attention/types';
import { closeAll } from './helpers';

// 7 tokens: <start> red sun flower and red <end>; token t's 1x2 map is [t, 10 t].
const maps: TokenMaps = {
  height: 1,
  width: 2,
  tokens: 7,
  heads: 1,
  data: Float32Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? 1 : 10) * Math.floor(i / 2)),
};
const spans = [
  { word: 'red', tokenIndices: [1] },
  { word: 'sunflower', tokenIndices: [2, 3] },
  { word: 'and', tokenIndices: [4] },
  { word: 'red', tokenIndices: [5] },
];

test('sub-word tokens and repeated words are averaged', () => {
  const w = mergeWords(maps, spans);
  assert.deepEqual(w.words, ['red', 'sunflower', 'and']);
  closeAll(w.data, [3, 30, 2.5, 25, 4, 40]);
});

test('start/end tokens only on request, by index', () => {
  const w = mergeWords(maps, spans, { specials: [{ label: '<start>', index: 0 }, { label: '<end>', index: 6 }] });
  assert.deepEqual(w.words, ['red', 'sunflower', 'and', '<start>', '<end>']);
  closeAll(w.data.subarray(6), [0, 0, 6, 60]);
  assert.throws(() => mergeWords(maps, spans, { specials: [{ label: 'red', index: 0 }] }), /clashes/);
});

test('per-map normalisation divides by each map max; all-zero maps stay 0', () => {
  const w = mergeWords(maps, spans, { normalise: 'per-map', specials: [{ label: '<start>', index: 0 }] });
  closeAll(w.data, [0.1, 1, 0.1, 1, 0.1, 1, 0, 0]);
});

test('heads stay separate when present', () => {
  const two: TokenMaps = { ...maps, heads: 2, data: Float32Array.from([...maps.data, ...maps.data.map((v) => 2 * v)]) };
  const w = mergeWords(two, [{ word: 'sunflower', tokenIndices: [2, 3] }]);
  closeAll(w.data, [2.5, 25, 5, 50]);
});

test('lookups: words by name (case-insensitive fallback), tokens by index, clear errors', () => {
  const w = mergeWords(maps, spans);
  assert.equal(wordIndex(w, 'Sunflower'), 1);
  assert.throws(() => wordIndex(w, 'cube'), /'cube' is not in the prompt; its words are: red, sunflower, and/);
  const s = pickWords(w, ['sunflower', 'red']);
  assert.equal(s.count, 2);
  closeAll(s.data, [2.5, 25, 3, 30]);
  assert.throws(() => mergeWords(maps, [{ word: 'x', tokenIndices: [9] }]), /word 'x': token index 9/);
  assert.throws(() => mergeWords(maps, [{ word: 'x', tokenIndices: [] }]), /no tokens/);
});
