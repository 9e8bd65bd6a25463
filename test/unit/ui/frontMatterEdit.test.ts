import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { frontMatterEdit, settingValueProblem, type TextEditSpec } from '../../../src/sidebar/frontMatterEdit';
import { parsePromptFile } from '../../../src/engine/promptFile';

function apply(text: string, e: TextEditSpec): string {
  const lines = text.split('\n');
  const offset = (line: number, column: number): number => lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + column;
  return text.slice(0, offset(e.line, e.column)) + e.newText + text.slice(offset(e.endLine, e.endColumn));
}

describe('front matter edits from the sidebar', () => {
  test('replaces a written value, keeping its comment', () => {
    const text = '---\nsteps: 8   # quick\nseed: 1\n---\na red [circle]\n';
    const out = apply(text, frontMatterEdit(text, 'steps', 20));
    assert.equal(out, '---\nsteps: 20   # quick\nseed: 1\n---\na red [circle]\n');
    assert.equal(parsePromptFile(out, '').settings.steps?.value, 20);
  });

  test('adds a missing key before the closing ---', () => {
    const text = '---\nseed: 1\n---\na red [circle]\n';
    const out = apply(text, frontMatterEdit(text, 'guidance', 4.5));
    assert.equal(out, '---\nseed: 1\nguidance: 4.5\n---\na red [circle]\n');
  });

  test('adds a front matter block to a file without one', () => {
    const text = 'a red [circle]\n';
    const out = apply(text, frontMatterEdit(text, 'seed', 3));
    assert.equal(out, '---\nseed: 3\n---\na red [circle]\n');
    assert.deepEqual(parsePromptFile(out, '').settings.seed?.value, [3]);
  });

  test('checks typed values', () => {
    assert.equal(settingValueProblem('steps', 0), 'steps must be at least 1');
    assert.equal(settingValueProblem('seed', 1.5), 'seed must be a whole number');
    assert.equal(settingValueProblem('guidance', Number.NaN), 'guidance must be a number');
    assert.equal(settingValueProblem('guidance', -1), 'guidance must be 0 or more');
    assert.equal(settingValueProblem('guidance', 7.5), undefined);
  });
});
