import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePair, distinctPairs, listPrompt, markedPrompt, neglectSplits, TEMPLATES, unseenPairSplits } from '../../../bench/neglectSplits';

test('distinctPairs: the 36 unordered pairs with different colours and shapes', () => {
  const pairs = distinctPairs();
  assert.equal(pairs.length, 36);
  assert.ok(pairs.every(([a, b]) => a.colour !== b.colour && a.shape !== b.shape));
  assert.equal(new Set(pairs.map(describePair)).size, 36);
});

test('neglectSplits: disjoint, deterministic, sized as asked', () => {
  const splits = neglectSplits(3, 6, 6, 2312);
  assert.deepEqual(splits, neglectSplits(3, 6, 6, 2312));
  const key = (p: { colour: string; shape: string }[]) => p.map((o) => `${o.colour} ${o.shape}`).sort().join('+');
  const all = splits.flatMap((s) => [...s.train, ...s.heldOut].map(key));
  assert.equal(all.length, 36);
  assert.equal(new Set(all).size, 36);
  assert.ok(splits.every((s) => s.train.length === 6 && s.heldOut.length === 6));
  assert.notDeepEqual(neglectSplits(3, 6, 6, 1), splits);
  assert.throws(() => neglectSplits(4, 6, 6, 1), /need more than/);
});

test('markedPrompt: marks the shape words as a user would', () => {
  const p = markedPrompt(TEMPLATES.bare, [{ colour: 'red', shape: 'circle' }, { colour: 'blue', shape: 'square' }]);
  assert.equal(p.text, 'red circle and blue square');
  assert.deepEqual(p.objects.map((o) => p.text.slice(o.start, o.end)), ['circle', 'square']);
  const q = markedPrompt(TEMPLATES.articles, [{ colour: 'green', shape: 'triangle' }, { colour: 'yellow', shape: 'circle' }]);
  assert.equal(q.text, 'a green triangle and a yellow circle');
  assert.deepEqual(q.objects.map((o) => q.text.slice(o.start, o.end)), ['triangle', 'circle']);
  const s = markedPrompt(TEMPLATES.single, [{ colour: 'red', shape: 'square' }]);
  assert.deepEqual([s.text, s.objects.length], ['a red square', 1]);
});

test('unseenPairSplits: every unseen shape pair once, two different colours each, deterministic', () => {
  const shapePairs = [['star', 'ring'], ['circle', 'cross'], ['heart', 'arrow'], ['square', 'moon'], ['triangle', 'diamond'], ['cross', 'arrow']] as const;
  const colours = ['red', 'blue', 'green'];
  const splits = unseenPairSplits(shapePairs, colours, 3, 1, 1, 2312);
  assert.deepEqual(splits, unseenPairSplits(shapePairs, colours, 3, 1, 1, 2312));
  const pairs = splits.flatMap((s) => [...s.train, ...s.heldOut]);
  assert.deepEqual(pairs.map((p) => p.map((o) => o.shape).sort().join('+')).sort(), shapePairs.map((p) => [...p].sort().join('+')).sort());
  assert.ok(pairs.every(([a, b]) => a.colour !== b.colour && colours.includes(a.colour) && colours.includes(b.colour)));
  assert.throws(() => unseenPairSplits(shapePairs, colours, 2, 2, 2, 1), /need more than/);
});

test('listPrompt: the training captions with or without articles, shape words marked even when a colour repeats', () => {
  const three = listPrompt([{ colour: 'red', shape: 'circle' }, { colour: 'green', shape: 'square' }, { colour: 'blue', shape: 'triangle' }]);
  assert.equal(three.text, 'a red circle, a green square and a blue triangle');
  assert.deepEqual(three.objects.map((m) => three.text.slice(m.start, m.end)), ['circle', 'square', 'triangle']);
  const same = listPrompt([{ colour: 'red', shape: 'circle' }, { colour: 'blue', shape: 'circle' }], false);
  assert.equal(same.text, 'red circle and blue circle');
  assert.deepEqual(same.objects.map((m) => m.start), [4, 20]);
});

test('markedPrompt marks shape words, colour words or whole phrases', () => {
  const pair = [{ colour: 'red', shape: 'star' }, { colour: 'blue', shape: 'ring' }];
  const spans = (marked: 'shape' | 'colour' | 'phrase'): string[] => {
    const p = markedPrompt(TEMPLATES.articles, pair, marked);
    assert.equal(p.text, 'a red star and a blue ring');
    return p.objects.map((o) => p.text.slice(o.start, o.end));
  };
  assert.deepEqual(spans('shape'), ['star', 'ring']);
  assert.deepEqual(spans('colour'), ['red', 'blue']);
  assert.deepEqual(spans('phrase'), ['red star', 'blue ring']);
});
