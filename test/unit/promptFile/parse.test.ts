import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  defaultSettings,
  effectiveSettings,
  formatDiagnostic,
  parsePromptFile,
  resolveModelReference,
  type ParsedPromptFile,
} from '../../../src/engine/promptFile';

const parse = (text: string): ParsedPromptFile => parsePromptFile(text, 'shapes.prompt');
const errors = (text: string): string[] =>
  parse(text).diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic('f.prompt', d));

describe('front matter', () => {
  test('reads every setting with its source range', () => {
    const file = parse(
      [
        '---',
        'model: ../models/tiny-shapes',
        'seed: [1, 2, 3]',
        'steps: 30',
        'guidance: 5',
        'scheduler: ddim',
        'size: 64x32',
        'eta: 0.5',
        'negative: blurry',
        '---',
        'a red [circle]',
      ].join('\n'),
    );
    assert.deepEqual(file.diagnostics, []);
    const s = file.settings;
    assert.equal(s.model?.value, '../models/tiny-shapes');
    assert.deepEqual(s.seed?.value, [1, 2, 3]);
    assert.equal(s.steps?.value, 30);
    assert.equal(s.guidance?.value, 5);
    assert.equal(s.scheduler?.value, 'ddim');
    assert.deepEqual(s.size?.value, { width: 64, height: 32 });
    assert.equal(s.eta?.value, 0.5);
    assert.equal(s.negative?.value, 'blurry');
    assert.deepEqual(s.steps?.keyRange, { line: 3, column: 0, endLine: 3, endColumn: 5 });
    assert.deepEqual(s.steps?.valueRange, { line: 3, column: 7, endLine: 3, endColumn: 9 });
    assert.equal(file.prompts[0].line, 10);
  });

  test('only present keys; a single seed and a square size are normalised', () => {
    const s = parse('---\nseed: 42\nsize: 512\n---\na [cat]\n').settings;
    assert.deepEqual(Object.keys(s).sort(), ['seed', 'size']);
    assert.deepEqual(s.seed?.value, [42]);
    assert.deepEqual(s.size?.value, { width: 512, height: 512 });
  });

  test('no front matter, empty front matter, CRLF line ends', () => {
    assert.deepEqual(parse('a [cat]').settings, {});
    const empty = parse('---\n---\na [cat]');
    assert.deepEqual(empty.settings, {});
    assert.deepEqual(empty.diagnostics, []);
    const crlf = parse('---\r\nsteps: 10\r\n---\r\na [cat]\r\n');
    assert.equal(crlf.settings.steps?.value, 10);
    assert.equal(crlf.prompts[0].text, 'a cat');
    assert.equal(crlf.prompts[0].line, 3);
  });

  test('wrong types and ranges name the key and the expected value', () => {
    assert.deepEqual(errors('---\nsteps: 0\n---\na'), ['f.prompt:2:8: error: "steps" must be an integer from 1 to 1000, got 0']);
    assert.match(errors('---\nsteps: "20"\n---\na')[0], /"steps" must be an integer from 1 to 1000, got "20"/);
    assert.match(errors('---\nseed: -1\n---\na')[0], /"seed" must be a non-negative integer up to 4294967295, or a list of them, got -1/);
    assert.deepEqual(errors('---\nseed: [1, x]\n---\na'), [
      'f.prompt:2:11: error: "seed" must be a non-negative integer up to 4294967295, or a list of them, got "x" in the list',
    ]);
    assert.match(errors('---\nseed: []\n---\na')[0], /got an empty list/);
    assert.match(errors('---\nguidance: -1\n---\na')[0], /"guidance" must be a number >= 0/);
    assert.match(errors('---\nscheduler: euler\n---\na')[0], /"scheduler" must be "ddim"/);
    assert.match(errors('---\nsize: 500\n---\na')[0], /"size" must be a multiple of 8 .* got 500/);
    assert.match(errors('---\nsize: 64x30\n---\na')[0], /"size" must be a multiple of 8/);
    assert.match(errors('---\neta: 2\n---\na')[0], /"eta" must be a number from 0 to 1, got 2/);
    assert.match(errors('---\nnegative: 3\n---\na')[0], /"negative" must be a string/);
    assert.match(errors('---\nmodel:\n---\na')[0], /f\.prompt:2:1: error: "model" must be a model name .* got nothing/);
    assert.match(errors('---\nsteps: [1]\n---\na')[0], /got a list/);
  });

  test('invalid values are left out of the settings', () => {
    const file = parse('---\nsteps: 0\nseed: 3\n---\na');
    assert.equal(file.settings.steps, undefined);
    assert.deepEqual(file.settings.seed?.value, [3]);
  });

  test('unknown keys are errors with a suggestion', () => {
    assert.deepEqual(errors('---\nsed: 1\n---\na'), ['f.prompt:2:1: error: unknown setting "sed"; did you mean "seed"?']);
    assert.match(errors('---\nguidance_scale: 7\n---\na')[0], /did you mean "guidance"\?/);
    assert.match(errors('---\nnum_inference_steps: 7\n---\na')[0], /did you mean "steps"\?/);
    assert.match(errors('---\nStePs: 7\n---\na')[0], /did you mean "steps"\?/);
    assert.match(errors('---\ncolour: red\n---\na')[0], /unknown setting "colour"; known settings: model, seed, steps/);
  });

  test('broken YAML is reported at its position, without follow-up errors', () => {
    const file = parse('---\nseed: [1, 2\nsteps: 10\n---\na [cat]');
    assert.ok(file.diagnostics.length >= 1);
    assert.ok(file.diagnostics.every((d) => d.severity === 'error' && d.message.startsWith('front matter:')));
    assert.ok(file.diagnostics.every((d) => d.line >= 1 && d.line <= 3), JSON.stringify(file.diagnostics));
    assert.deepEqual(file.settings, {});
    assert.equal(file.prompts.length, 1);
  });

  test('duplicate keys and a non-mapping front matter are errors', () => {
    assert.match(errors('---\nseed: 1\nseed: 2\n---\na')[0], /f\.prompt:3:1: error: front matter: .*unique/);
    assert.deepEqual(errors('---\n- 1\n- 2\n---\na'), ['f.prompt:2:1: error: front matter must be "key: value" lines, e.g. "seed: 42"']);
  });

  test('a missing or non-word setting name', () => {
    assert.deepEqual(errors('---\n: x\n---\na'), ['f.prompt:2:1: error: each setting needs a plain name before ":", e.g. "seed: 42"']);
    assert.match(errors('---\n? [a]\n: 1\n---\na')[0], /f\.prompt:2:3: error: each setting needs a plain name/);
  });

  test('unterminated front matter', () => {
    const file = parse('---\nseed: 1\na [cat]\n');
    assert.deepEqual(file.diagnostics.map((d) => formatDiagnostic('f.prompt', d)), [
      'f.prompt:1:1: error: the front matter is not closed: add a "---" line after the settings',
    ]);
    assert.deepEqual(file.prompts, []);
  });

  test('a byte order mark before the front matter is ignored', () => {
    assert.equal(parse('\uFEFF---\nsteps: 4\n---\na').settings.steps?.value, 4);
  });
});

describe('prompts and marks', () => {
  test('marks are stripped with offsets and file positions', () => {
    const file = parse('# shapes\n\n  a red [circle] and a blue [square]  \n');
    assert.equal(file.prompts.length, 1);
    const p = file.prompts[0];
    assert.equal(p.line, 2);
    assert.equal(p.text, 'a red circle and a blue square');
    assert.equal(p.raw, '  a red [circle] and a blue [square]  ');
    assert.deepEqual(p.objects, [
      { word: 'circle', start: 6, end: 12, line: 2, column: 9, endColumn: 15 },
      { word: 'square', start: 24, end: 30, line: 2, column: 29, endColumn: 35 },
    ]);
    for (const o of p.objects) {
      assert.equal(p.text.slice(o.start, o.end), o.word);
      assert.equal(p.raw.slice(o.column, o.endColumn), o.word);
    }
    assert.deepEqual(file.diagnostics, []);
  });

  test('multi-word, padded and duplicate marks', () => {
    const p = parse('a [traffic light] and a [ cat ] and a [cat]').prompts[0];
    assert.equal(p.text, 'a traffic light and a  cat  and a cat');
    assert.deepEqual(p.objects.map((o) => [o.word, p.text.slice(o.start, o.end)]), [
      ['traffic light', 'traffic light'],
      ['cat', 'cat'],
      ['cat', 'cat'],
    ]);
    const leading = parse('[ cat ] on a mat').prompts[0];
    assert.equal(leading.text, 'cat  on a mat');
    assert.deepEqual([leading.objects[0].start, leading.objects[0].end, leading.objects[0].column], [0, 3, 2]);
  });

  test('comments, blank lines and several prompts', () => {
    const file = parse('a [cat]\n# not a prompt\n   # indented comment\n\n\ta [dog]\n');
    assert.deepEqual(file.prompts.map((p) => [p.line, p.text]), [[0, 'a cat'], [4, 'a dog']]);
  });

  test('bad brackets', () => {
    assert.deepEqual(errors('a [cat'), ['f.prompt:1:3: error: unbalanced "[": the mark is not closed on this line']);
    assert.deepEqual(errors('a cat]'), ['f.prompt:1:6: error: unbalanced "]": no "[" before it on this line']);
    assert.deepEqual(errors('a [] cat'), ['f.prompt:1:3: error: empty mark "[]": put the object word inside, e.g. [circle]']);
    assert.match(errors('a [  ] cat')[0], /empty mark/);
    assert.deepEqual(errors('a [big [cat]]'), [
      'f.prompt:1:8: error: marks cannot nest: "[" inside the mark opened at column 3',
      'f.prompt:1:13: error: unbalanced "]": no "[" before it on this line',
    ]);
  });

  test('a prompt with bracket errors is still returned with its good marks', () => {
    const file = parse('a [cat] and a [dog');
    assert.equal(file.prompts[0].text, 'a cat and a dog');
    assert.deepEqual(file.prompts[0].objects.map((o) => o.word), ['cat']);
    const d = file.diagnostics[0];
    assert.deepEqual([d.line, d.column, d.endLine, d.endColumn], [0, 14, 0, 15]);
  });

  test('a file without prompts gets a warning', () => {
    const file = parse('---\nseed: 1\n---\n# only comments\n');
    assert.equal(file.prompts.length, 0);
    assert.deepEqual(file.diagnostics.map((d) => d.severity), ['warning']);
    assert.match(file.diagnostics[0].message, /no prompts/);
  });

  test('never throws on odd input', () => {
    for (const text of ['', '---', '---\n---', '[', ']', '---\n: x\n---\n', '---\n? [a]\n: 1\n---\n', '---\n&a x: *a\n---\n', '\u0000[\u0000]']) {
      assert.doesNotThrow(() => parse(text), JSON.stringify(text));
    }
  });
});

describe('settings helpers', () => {
  test('defaults and effective settings', () => {
    assert.deepEqual(defaultSettings, { model: 'tiny-shapes', seed: [0], steps: 50, guidance: 7.5, scheduler: 'ddim', eta: 0, negative: '' });
    const eff = effectiveSettings(parse('---\nseed: [4, 5]\nsize: 64\n---\na').settings);
    assert.deepEqual(eff, { ...defaultSettings, seed: [4, 5], size: { width: 64, height: 64 } });
  });

  test('model names and folder paths', () => {
    const file = path.join('/work', 'prompts', 'x.prompt');
    assert.deepEqual(resolveModelReference('tiny-shapes', file), { kind: 'name', name: 'tiny-shapes' });
    assert.deepEqual(resolveModelReference('../models/m', file), { kind: 'path', path: path.resolve('/work/models/m') });
    assert.deepEqual(resolveModelReference('./m', file), { kind: 'path', path: path.resolve('/work/prompts/m') });
    assert.deepEqual(resolveModelReference('/abs/m', file), { kind: 'path', path: path.resolve('/abs/m') });
  });

  test('formatDiagnostic is 1-based', () => {
    assert.equal(
      formatDiagnostic('a.prompt', { severity: 'warning', message: 'm', line: 0, column: 0, endLine: 0, endColumn: 1 }),
      'a.prompt:1:1: warning: m',
    );
  });
});
