import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, matchCase, nearestWords, vocabularySuggestions, vocabularyWords } from '../../../src/language/vocabulary';

describe('vocabulary', () => {
  test('whole words are the letter tokens ending in </w>, two letters or more', () => {
    const vocab = { 'a</w>': 1, 'red</w>': 2, 'circ': 3, 'circle</w>': 4, '!</w>': 5, '<|endoftext|>': 6, 'blue</w>': 7, 'x2</w>': 8 };
    assert.deepEqual(vocabularyWords(vocab), ['blue', 'circle', 'red']);
  });

  test('edit distance counts an adjacent swap as one edit', () => {
    assert.equal(editDistance('circle', 'circle'), 0);
    assert.equal(editDistance('circel', 'circle'), 1);
    assert.equal(editDistance('sqare', 'square'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  test('nearest words, nearest first', () => {
    const words = ['blue', 'circle', 'circles', 'green', 'red', 'square', 'squares', 'triangle'];
    assert.deepEqual(nearestWords('circel', words, 2), ['circle', 'circles']);
    assert.equal(nearestWords('sqaure', words, 1)[0], 'square');
    assert.equal(nearestWords('Grean', words, 1)[0], 'green');
    assert.equal(nearestWords('trinagle', words, 1)[0], 'triangle');
    assert.deepEqual(nearestWords('x', [], 3), []);
  });

  test('matchCase keeps the capitalisation of the typo', () => {
    assert.equal(matchCase('Circel', 'circle'), 'Circle');
    assert.equal(matchCase('CIRCEL', 'circle'), 'CIRCLE');
    assert.equal(matchCase('circel', 'circle'), 'circle');
  });
});

describe('suggestions of the same kind', () => {
  const tiny = ['an', 'and', 'background', 'blue', 'circle', 'circles', 'green', 'grey', 'of', 'on', 'one', 'photo', 'red', 'shape', 'shapes', 'square', 'squares', 'the', 'three', 'triangle', 'triangles', 'two', 'with', 'yellow'];
  test('a misspelt word gets its close spelling; a colour the model lacks gets its colours, never a shape', () => {
    assert.deepEqual(vocabularySuggestions('circel', tiny), { words: ['circle', 'circles'], by: 'spelling' });
    assert.deepEqual(vocabularySuggestions('purple', tiny), { words: ['blue', 'green', 'grey', 'red', 'yellow'], by: 'colour' });
    assert.deepEqual(vocabularySuggestions('star', tiny), { words: ['circle', 'square', 'triangle'], by: 'shape' });
    assert.deepEqual(vocabularySuggestions('banana', tiny), { words: [], by: 'spelling' }, 'no far-off guess');
  });
});
