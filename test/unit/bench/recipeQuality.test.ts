import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateRecipes, familyPrompts, pairsFamilies } from '../../../bench/recipeQuality';
import { recipeName } from '../../../src/engine/attention/scoreRecipe';

test('prompt families: every pair and triple once, halves of each family disjoint and fixed', () => {
  const prompts = familyPrompts();
  const count = (family: string, half?: string): number => prompts.filter((p) => p.family === family && (half === undefined || p.half === half)).length;
  assert.deepEqual(['distinct pairs', 'sharing a colour', 'sharing a shape', 'three objects', 'article-less pairs'].map((f) => count(f)), [36, 12, 18, 24, 36]);
  assert.deepEqual([count('sharing a colour', 'selection'), count('sharing a colour', 'test')], [6, 6]);
  assert.equal(new Set(prompts.map((p) => p.text)).size, prompts.length, 'no prompt twice');
  assert.deepEqual(familyPrompts().map((p) => `${p.half} ${p.text}`), prompts.map((p) => `${p.half} ${p.text}`), 'the split is seeded');
  const bare = prompts.find((p) => p.family === 'article-less pairs');
  assert.ok(bare && !bare.text.startsWith('a '), bare?.text);
  for (const p of prompts) for (const m of p.marks) assert.equal(p.text.slice(m.start, m.end), m.word);
});

test("candidate recipes: 8 layer sets x 2 head modes x 5 statistics x 9 windows, all distinct, the run record's S&E recipe among them", () => {
  const names = candidateRecipes().map(recipeName);
  assert.equal(names.length, 720);
  assert.equal(new Set(names).size, 720);
  assert.ok(names.includes('loss/16x16/max/middle'));
});

test('pairs.json families: seen and unseen shape pairs, every colouring of a shape pair in one half', () => {
  const pairs = {
    colours: ['red', 'blue', 'green'],
    seen_pairs: [['circle', 'star'], ['ring', 'cross']] as [string, string][],
    held_out_pairs: [['circle', 'ring'], ['star', 'cross'], ['circle', 'cross'], ['star', 'ring']] as [string, string][],
  };
  const prompts = familyPrompts(pairsFamilies(pairs, 3));
  assert.deepEqual(['seen pairs', 'unseen pairs'].map((f) => prompts.filter((p) => p.family === f).length), [6, 12]);
  const halvesOf = new Map<string, Set<string>>();
  for (const p of prompts) {
    assert.ok(p.text.startsWith('a '), p.text);
    assert.notEqual(p.objects[0].colour, p.objects[1].colour);
    const key = p.objects.map((o) => o.shape).sort().join('+');
    halvesOf.set(key, (halvesOf.get(key) ?? new Set()).add(p.half));
    for (const m of p.marks) assert.equal(p.text.slice(m.start, m.end), m.word);
  }
  assert.equal(halvesOf.size, 6);
  for (const [pair, halves] of halvesOf) assert.equal(halves.size, 1, `${pair} is in both halves`);
  assert.deepEqual(familyPrompts(pairsFamilies(pairs, 3)).map((p) => `${p.half} ${p.text}`), prompts.map((p) => `${p.half} ${p.text}`), 'seeded');
});
