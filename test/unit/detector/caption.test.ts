import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCaption, tokenizeCaption } from '../../../src/engine/detector/caption';
import { NEGLECT_SHAPES_WORLD } from '../../../src/engine/detector/neglectShapes';

describe('caption parser', () => {
  test('the three scenes.py templates', () => {
    const want = [
      { colour: 'red', shape: 'circle' },
      { colour: 'blue', shape: 'square' },
    ];
    for (const c of ['a red circle and a blue square', 'a photo of a red circle and a blue square', 'a red circle and a blue square.']) {
      assert.deepEqual(parseCaption(c), { objects: want, unknown: [], problems: [] }, c);
    }
  });

  test('three objects with a comma, "an", upper case and extra spaces', () => {
    const p = parseCaption('  A Yellow triangle,  a green circle and AN blue square ');
    assert.deepEqual(p.objects, [
      { colour: 'yellow', shape: 'triangle' },
      { colour: 'green', shape: 'circle' },
      { colour: 'blue', shape: 'square' },
    ]);
    assert.deepEqual(p.unknown, []);
    assert.deepEqual(p.problems, []);
  });

  test('a shape without a colour asks for any colour', () => {
    assert.deepEqual(parseCaption('a circle and a red square').objects, [{ shape: 'circle' }, { colour: 'red', shape: 'square' }]);
  });

  test('unknown words are reported, not ignored', () => {
    const p = parseCaption('a big red circle next to a purple hexagon');
    assert.deepEqual(p.objects, [{ colour: 'red', shape: 'circle' }]);
    assert.deepEqual(p.unknown, ['big', 'next', 'to', 'purple', 'hexagon']);
    // "a purple hexagon": the article is left without a shape
    assert.equal(p.problems.length, 1);
    assert.match(p.problems[0], /article "a" at the end has no shape/);
  });

  test('an unknown prefix is reported word by word', () => {
    assert.deepEqual(parseCaption('a sketch of a red circle').unknown, ['sketch', 'of']);
  });

  test('misplaced known words are problems', () => {
    assert.match(parseCaption('a red and a blue square').problems.join('\n'), /colour "red" before "and" has no shape/);
    assert.match(parseCaption('a red circle a blue square').problems.join('\n'), /not separated/);
    assert.match(parseCaption('a red blue circle').problems.join('\n'), /two colours in a row/);
    assert.match(parseCaption('and a red circle').problems.join('\n'), /does not follow an object/);
    assert.match(parseCaption('a red circle and a green').problems.join('\n'), /colour "green" at the end has no shape/);
    assert.deepEqual(parseCaption('a red blue circle').objects, [{ colour: 'blue', shape: 'circle' }]);
  });

  test('empty caption', () => {
    assert.deepEqual(parseCaption(''), { objects: [], unknown: [], problems: [] });
  });

  test('tokenizer keeps commas and drops a final full stop', () => {
    assert.deepEqual(tokenizeCaption('a red circle, a blue square.'), ['a', 'red', 'circle', ',', 'a', 'blue', 'square']);
  });

  test('a world\'s vocabulary: neglect-shapes\' colours and shapes, and only those', () => {
    assert.deepEqual(parseCaption('a purple crescent and a green arrow', NEGLECT_SHAPES_WORLD), {
      objects: [
        { colour: 'purple', shape: 'crescent' },
        { colour: 'green', shape: 'arrow' },
      ],
      unknown: [],
      problems: [],
    });
    assert.deepEqual(parseCaption('A red heart, a Yellow ring and a star', NEGLECT_SHAPES_WORLD).objects, [
      { colour: 'red', shape: 'heart' },
      { colour: 'yellow', shape: 'ring' },
      { shape: 'star' },
    ]);
    // tiny-shapes (the default) knows neither word; neglect-shapes knows no hexagon or orange
    assert.deepEqual(parseCaption('a purple crescent').unknown, ['purple', 'crescent']);
    assert.deepEqual(parseCaption('an orange hexagon and a blue diamond', NEGLECT_SHAPES_WORLD).unknown, ['orange', 'hexagon']);
  });
});
