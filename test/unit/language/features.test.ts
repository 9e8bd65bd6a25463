import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RunSummary, WordInRun } from '../../../src/engine/history';
import { lensesFor } from '../../../src/language/codeLensLogic';
import { completionsAt } from '../../../src/language/completionLogic';
import { runHoverMarkdown, tokenHoverMarkdown } from '../../../src/language/hoverLogic';

const FILE = ['---', 'model: tiny-shapes', 'st', '# note', '---', '# comment', 'a red cir', ''];
const context = { modelNames: ['tiny-shapes'], vocabulary: ['blue', 'circle', 'red'] };

describe('completion', () => {
  test('front-matter keys not yet set, with docs, replacing the typed prefix', () => {
    const result = completionsAt(FILE, 2, 2, context);
    assert.ok(result);
    assert.equal(result.replaceFrom, 0);
    const labels = result.items.map((i) => i.label);
    assert.ok(!labels.includes('model'));
    assert.deepEqual(labels, ['seed', 'steps', 'guidance', 'scheduler', 'size', 'eta', 'negative']);
    const steps = result.items.find((i) => i.label === 'steps');
    assert.equal(steps?.insertText, 'steps: ');
    assert.match(steps?.documentation ?? '', /sampling steps/);
  });

  test('values of model: and scheduler:', () => {
    const model = completionsAt(FILE, 1, 'model: ti'.length, context);
    assert.deepEqual(model?.items.map((i) => i.insertText), ['tiny-shapes']);
    assert.equal(model?.replaceFrom, 'model: '.length);
    const afterColon = completionsAt(['---', 'scheduler:', '---'], 1, 'scheduler:'.length, context);
    assert.deepEqual(afterColon?.items.map((i) => i.insertText), [' ddim']);
  });

  test('vocabulary words on prompt lines, nothing on comments and fences', () => {
    const words = completionsAt(FILE, 6, 'a red cir'.length, context);
    assert.deepEqual(words?.items.map((i) => i.label), ['blue', 'circle', 'red']);
    assert.equal(words?.replaceFrom, 'a red '.length);
    assert.equal(completionsAt(FILE, 5, 3, context), undefined);
    assert.equal(completionsAt(FILE, 4, 3, context), undefined);
    assert.equal(completionsAt(FILE, 3, 3, context), undefined);
    assert.equal(completionsAt(FILE, 6, 3, { modelNames: [] }), undefined, 'no words for an open vocabulary');
  });
});

describe('code lenses', () => {
  test('three lenses above every prompt line', () => {
    const lenses = lensesFor('---\nseed: 1\n---\n# c\na red [circle]\n\na blue [square]\n');
    assert.deepEqual(
      lenses.map((l) => `${l.line} ${l.command}`),
      [4, 6].flatMap((line) => [`${line} promptLens.generate`, `${line} promptLens.finetune`, `${line} promptLens.compare`]),
    );
    assert.equal(lenses[0].title, '▶ Generate');
  });
});

describe('hover markdown', () => {
  const run = {
    id: '20261127-074103-a-red-circle',
    folder: '/w/runs/20261127-074103-a-red-circle',
    settings: { seed: 7, steps: 20 },
    model: { id: 'tiny-shapes', path: '', hash: '' },
  } as RunSummary;

  test('an object word: thumbnail, activation, IoU and a link to the report', () => {
    const word: WordInRun = { word: 'circle', isObject: true, activation: 0.0701, weakest: true, pairs: [{ other: 'square', iou: 0.5, ioa: 0.6 }], overlay: '/x' };
    const md = runHoverMarkdown({ run, word, thumbnail: 'data:image/png;base64,AAAA', runsDir: '/w/runs' });
    assert.match(md, /!\[circle\]\(data:image\/png;base64,AAAA\|width=128,height=128\)/);
    assert.match(md, /activation \*\*0\.070\*\* \(weakest object\)/);
    assert.match(md, /IoU with square \*\*0\.500\*\*/);
    const link = /\[Open report\]\(command:promptLens\.openRun\?([^)]+)\)/.exec(md);
    assert.ok(link);
    assert.deepEqual(JSON.parse(decodeURIComponent(link[1])), [run.folder]);
    assert.match(md, /seed 7, 20 steps, tiny\\-shapes/);
  });

  test('a word that is not marked has no scores', () => {
    const md = runHoverMarkdown({ run, word: { word: 'red', isObject: false, weakest: false, pairs: [] }, runsDir: '/w/runs' });
    assert.match(md, /not a marked object/);
    assert.match(md, /no overlay picture/);
    assert.doesNotMatch(md, /activation/);
  });

  test('tokens and ids without a run', () => {
    const md = tokenHoverMarkdown({ word: 'circel', modelId: 'tiny-shapes', maxLength: 16, tokens: [{ text: 'circ', id: 540 }, { text: 'el</w>', id: 300 }], note: 'No run yet.' });
    assert.match(md, /2 tokens: `circ` 540 · `el<\/w>` 300/);
    assert.match(md, /No run yet\./);
    assert.match(tokenHoverMarkdown({ word: 'x', modelId: 'm', maxLength: 16, tokens: [] }), /beyond the model's 16-token limit/);
  });
});
