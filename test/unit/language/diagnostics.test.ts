import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parsePromptFile } from '../../../src/engine/promptFile';
import { computeDiagnostics, modelRequest, type LangDiagnostic } from '../../../src/language/diagnosticsLogic';
import { ModelService } from '../../../src/language/modelService';
import { splitLines } from '../../../src/language/promptText';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const MODELS = path.join(ROOT, 'models');
const FILE = path.join(ROOT, 'examples', 'check.prompt');
const models = new ModelService(MODELS);

async function check(text: string, trusted = true, file = FILE): Promise<LangDiagnostic[]> {
  const parsed = parsePromptFile(text, file);
  const request = modelRequest(parsed, splitLines(text));
  const lookup = request ? await models.lookup(request.model, file, trusted) : undefined;
  return computeDiagnostics(parsed, splitLines(text), request && lookup ? { request, lookup } : undefined);
}

const brief = (ds: LangDiagnostic[]): string[] => ds.map((d) => `${d.line}:${d.column}-${d.endColumn} ${d.severity} ${d.code}`);

describe('model service', () => {
  test('loads the embedded model once, with its closed vocabulary and 16-token limit', async () => {
    const a = await models.lookup('tiny-shapes', FILE, true);
    const b = await models.lookup('tiny-shapes', FILE, false);
    assert.equal(a.kind, 'ok');
    assert.ok(a.kind === 'ok' && b.kind === 'ok');
    assert.equal(a.model.tokenizer, b.model.tokenizer, 'cached per folder');
    assert.equal(a.model.tokenizer.maxLength, 16);
    assert.equal(a.model.builtin, true);
    assert.ok(a.model.closedVocabulary?.includes('circle'));
    assert.ok(a.model.closedVocabulary?.includes('background'));
    assert.ok(!a.model.closedVocabulary?.includes('a'), 'single letters are byte tokens, not offered');
  });

  test('names what is wrong with a model that cannot be used', async () => {
    const unknown = await models.lookup('sd15', FILE, true);
    assert.equal(unknown.kind, 'error');
    assert.match(unknown.kind === 'error' ? unknown.message : '', /^no model is named "sd15" \(embedded: neglect-shapes, tiny-shapes\).*Add Model/);
    const missing = await models.lookup('./nowhere', FILE, true);
    assert.match(missing.kind === 'error' ? missing.message : '', /Model folder not found: .*nowhere/);
    const empty = await mkdtemp(path.join(tmpdir(), 'pl-model-'));
    const notModel = await models.lookup(empty, FILE, true);
    assert.match(notModel.kind === 'error' ? notModel.message : '', /model_index\.json is missing/);
  });

  test('a model the user named (Add Model, promptLens.models) resolves as a run resolves it; untrusted it is not loaded', async () => {
    const named = { mine: path.join(MODELS, 'tiny-shapes') };
    const mine = await models.lookup('mine', FILE, true, named);
    assert.equal(mine.kind, 'ok');
    assert.equal(mine.kind === 'ok' && mine.model.builtin, true, 'the same folder as the embedded model');
    const own = await mkdtemp(path.join(tmpdir(), 'pl-own-'));
    await cp(path.join(MODELS, 'tiny-shapes'), own, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') && !src.includes('/train') });
    assert.equal((await models.lookup('own', FILE, true, { own })).kind, 'ok');
    assert.equal((await models.lookup('own', FILE, false, { own })).kind, 'untrusted');
    const unknown = await models.lookup('other', FILE, true, { own });
    assert.match(unknown.kind === 'error' ? unknown.message : '', /no model is named "other" \(embedded: neglect-shapes, tiny-shapes; yours: own\)/);
  });

  test("a model whose recommended settings are broken is an error on model:, and fixing the file clears it", async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'pl-model-'));
    await cp(path.join(MODELS, 'tiny-shapes'), copy, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') && !src.includes('/train') });
    await writeFile(path.join(copy, 'prompt_lens.json'), '{"defaults": {"guidance": "low"}}');
    const ds = await check(`---\nmodel: ${copy}\n---\na red [circle]\n`);
    assert.deepEqual(brief(ds), [`1:7-${7 + copy.length} error model`]);
    assert.match(ds[0].message, /prompt_lens\.json: "defaults\.guidance" must be a number/);
    // The lookup is cached per folder until one of its files changes (a new size here).
    await writeFile(path.join(copy, 'prompt_lens.json'), '{"defaults": {"guidance": 2}}');
    assert.deepEqual(await check(`---\nmodel: ${copy}\n---\na red [circle]\n`), []);
  });

  test('an untrusted workspace loads embedded models only, even when given as a path', async () => {
    const folder = await models.lookup('./my-model', FILE, false);
    assert.equal(folder.kind, 'untrusted');
    assert.match(folder.kind === 'untrusted' ? folder.message : '', /not trusted/);
    const builtinByPath = await models.lookup('../models/tiny-shapes', FILE, false);
    assert.equal(builtinByPath.kind, 'ok');
  });
});

describe('diagnostics', () => {
  test('a clean file has none', async () => {
    assert.deepEqual(await check('---\nmodel: tiny-shapes\nseed: 7\n---\na red [circle] and a blue [square]\n'), []);
  });

  test("keeps the parser's diagnostics and skips model checks while the front matter is wrong", async () => {
    const ds = await check('---\nmodle: tiny-shapes\n---\na red [circel\n');
    assert.deepEqual(brief(ds), ['1:0-5 error parse', '3:6-7 error parse']);
    assert.match(ds[0].message, /unknown setting "modle"/);
  });

  test('an error in another setting keeps the prompt lines checked against the model', async () => {
    const ds = await check('---\nmodel: tiny-shapes\nsteps: lots\n---\na red [circle] and a purple square\n');
    assert.deepEqual(brief(ds), ['2:7-11 error parse', '4:21-27 warning out-of-vocabulary']);
    assert.match(ds[1].message, /^"purple" is not in the vocabulary of tiny-shapes; its colours are blue, green, grey, red, yellow, which knows only these 24 words: an, and, background/);
    assert.deepEqual(ds[1].suggestions, ['blue', 'green', 'grey', 'red', 'yellow']);
  });

  test('words outside the closed vocabulary, with the nearest words as suggestions', async () => {
    const ds = await check('a red [Circel] and a blue sqaure\n');
    assert.deepEqual(brief(ds), ['0:7-13 warning out-of-vocabulary', '0:26-32 warning out-of-vocabulary']);
    assert.equal(ds[0].suggestions?.[0], 'Circle');
    assert.match(ds[0].message, /"Circel" is not in the vocabulary of tiny-shapes.*did you mean "Circle"\?/);
    assert.equal(ds[1].suggestions?.[0], 'square');
  });

  test('marks must cover whole words', async () => {
    const ds = await check('a red circ[le] and a [blue square]\n');
    assert.deepEqual(brief(ds), ['0:11-13 warning mark']);
    assert.match(ds[0].message, /\[le\] covers only part of "circle"/);
  });

  test('prompts over the token limit; marks beyond it are errors', async () => {
    const line = 'a red circle and a blue square and a green triangle and a yellow [circle] on a grey background';
    const ds = await check(line + '\n');
    const limit = ds.filter((d) => d.code === 'token-limit');
    assert.equal(limit.length, 2);
    const [cut, mark] = limit;
    assert.equal(cut.severity, 'warning');
    assert.match(cut.message, /this prompt is 21 tokens, over the 16-token limit of tiny-shapes/);
    // 14 content tokens fit: "a red circle and a blue square and a green triangle and a yellow"
    assert.equal(cut.column, line.indexOf('[circle]') + 1);
    assert.equal(cut.endColumn, line.length);
    assert.equal(mark.severity, 'error');
    assert.equal(mark.column, line.indexOf('[circle]') + 1);
    assert.match(mark.message, /\[circle\] falls beyond the model's 16-token limit/);
  });

  test('an unknown model is one error on the model: value', async () => {
    const ds = await check('---\nmodel: tiny-shape\n---\na red circel\n');
    assert.deepEqual(brief(ds), ['1:7-17 error model']);
    // The same message a run gives (one resolver: src/engine/run/resolveModel.ts).
    assert.match(ds[0].message, /^model: no model is named "tiny-shape" \(embedded: neglect-shapes, tiny-shapes\)/);
  });

  test('an untrusted workspace: one information diagnostic on model:, no model checks', async () => {
    const ds = await check('---\nmodel: ./my-model\n---\na red circel\n', false);
    assert.deepEqual(brief(ds), ['1:7-17 information untrusted']);
  });

  test('the negative prompt is checked too, plain or quoted', async () => {
    const plain = await check('---\nnegative: blurry red\n---\na red circle\n');
    assert.deepEqual(brief(plain), ['1:10-16 warning out-of-vocabulary']);
    const quoted = await check('---\nnegative: "red blury"\n---\na red circle\n');
    assert.deepEqual(brief(quoted), ['1:15-20 warning out-of-vocabulary']);
    const long = await check('---\nnegative: ' + 'red '.repeat(20) + '\n---\na red circle\n');
    assert.match(long.find((d) => d.code === 'token-limit')?.message ?? '', /this negative prompt is 22 tokens/);
  });

  test('without model: the default model is checked', async () => {
    const request = modelRequest(parsePromptFile('a cat', FILE), ['a cat']);
    assert.deepEqual(request, { model: 'tiny-shapes' });
    const ds = await check('a red cat\n');
    assert.deepEqual(brief(ds), ['0:6-9 warning out-of-vocabulary']);
  });
});

describe('guidance while typing', () => {
  const guidance = (ds: LangDiagnostic[]): LangDiagnostic[] => ds.filter((d) => d.code === 'guidance' || /guidance/.test(d.message));

  test("the engine's own range (finite, 0 or more) is an error where the value is written", async () => {
    for (const value of ['-1', '.nan', '.inf', 'lots']) {
      const ds = await check(`---\nguidance: ${value}\n---\na red [circle]\n`);
      assert.deepEqual(brief(ds), [`1:10-${10 + value.length} error parse`], value);
      assert.match(ds[0].message, /"guidance" must be a number >= 0 \(the classifier-free guidance scale\)/);
    }
  });

  test('below 1 samples as 1; far above the usual range burns out; 1 to 20 says nothing', async () => {
    for (const value of [1, 2, 7.5, 20]) assert.deepEqual(await check(`---\nguidance: ${value}\n---\na red [circle]\n`), [], String(value));
    const low = await check('---\nguidance: 0.5\n---\na red [circle]\n');
    assert.deepEqual(brief(low), ['1:10-13 warning guidance']);
    assert.equal(low[0].message, 'guidance: 0.5 samples exactly as 1: at 1 and below the engine skips classifier-free guidance and follows the prompt alone; tiny-shapes recommends 2');
    const high = await check('---\nguidance: 30\n---\na red [circle]\n');
    assert.deepEqual(brief(high), ['1:10-12 warning guidance']);
    assert.match(high[0].message, /^guidance: 30 is far above the usual range .*: images burn out; tiny-shapes recommends 2$/);
  });

  test('a negative prompt at guidance 1 or less is unread: underlined, whether the file or the model sets the guidance', async () => {
    const written = await check('---\nguidance: 1\nnegative: grey\n---\na red [circle]\n');
    assert.deepEqual(brief(written), ['2:10-14 warning guidance']);
    assert.equal(written[0].message, 'negative: unused at guidance 1: the engine reads the negative prompt only when guidance is above 1');
    assert.deepEqual(await check('---\nnegative: grey\n---\na red [circle]\n'), [], "tiny-shapes' recommended guidance 2 reads it");
    const copy = await mkdtemp(path.join(tmpdir(), 'pl-model-'));
    await cp(path.join(MODELS, 'tiny-shapes'), copy, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') && !src.includes('/train') });
    await writeFile(path.join(copy, 'prompt_lens.json'), '{"defaults": {"guidance": 1}}');
    const fromModel = await check(`---\nmodel: ${copy}\nnegative: grey\n---\na red [circle]\n`);
    assert.deepEqual(guidance(fromModel).map((d) => d.message), [`negative: unused at guidance 1 (${path.basename(copy)}'s recommended value): the engine reads the negative prompt only when guidance is above 1`]);
  });
});
