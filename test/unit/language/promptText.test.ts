import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parsePromptFile } from '../../../src/engine/promptFile';
import { columnRange, frontMatterLines, offsetAtColumn, promptColumns, splitLines, wordAt } from '../../../src/language/promptText';

describe('prompt columns', () => {
  test('map every character of the parsed prompt text back to its column', () => {
    for (const raw of ['a red [circle] and a blue [square]', '   [ cat ] on a mat  ', 'x [[nested] y', 'unbalanced ] here [', '[a]', 'plain']) {
      const prompt = parsePromptFile(raw, 'f.prompt').prompts[0];
      const columns = promptColumns(raw);
      assert.equal(columns.length, prompt.text.length, raw);
      assert.equal(columns.map((c) => raw[c]).join(''), prompt.text, raw);
      for (const o of prompt.objects) assert.deepEqual(columnRange(columns, o.start, o.end), { column: o.column, endColumn: o.endColumn });
    }
  });

  test('offsetAtColumn is -1 on brackets and outside the text', () => {
    const columns = promptColumns('  a [cat]');
    assert.equal(offsetAtColumn(columns, 0), -1);
    assert.equal(offsetAtColumn(columns, 2), 0);
    assert.equal(offsetAtColumn(columns, 4), -1);
    assert.equal(offsetAtColumn(columns, 5), 2);
  });

  test('wordAt finds the word under an offset', () => {
    assert.deepEqual(wordAt('a red circle', 7), { word: 'circle', start: 6, end: 12 });
    assert.deepEqual(wordAt('a red circle', 6), { word: 'circle', start: 6, end: 12 });
    assert.equal(wordAt('a red circle', 5), undefined);
    assert.deepEqual(wordAt("it's red", 1), { word: "it's", start: 0, end: 4 });
  });
});

describe('front matter lines', () => {
  test('closed, unclosed and absent', () => {
    assert.deepEqual(frontMatterLines(splitLines('---\nseed: 1\n---\na cat')), { start: 1, end: 2, closed: true });
    assert.deepEqual(frontMatterLines(splitLines('---\nseed: 1\n')), { start: 1, end: 3, closed: false });
    assert.equal(frontMatterLines(splitLines('a cat\n---')), undefined);
    assert.deepEqual(splitLines('\uFEFFa\r\nb\rc'), ['a', 'b', 'c']);
  });
});
