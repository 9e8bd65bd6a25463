// Per-model recommended settings: precedence (file > model folder's prompt_lens.json > engine),
// validation of the defaults file, and the embedded model's own recommendation.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkModelDefaults, MODEL_DEFAULTS_FILE, readModelDefaults, readModelDetectorWorld, readModelScores } from '../../../src/engine/model/modelDefaults';
import { ModelError } from '../../../src/engine/model/modelFolder';
import { defaultSettings, parsePromptFile, resolveSettings, type PromptSettings } from '../../../src/engine/promptFile';
import { resolveFileSettings } from '../../../src/engine/run/resolveModel';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const MODELS = path.join(ROOT, 'models');
const written = (frontMatter: string): PromptSettings => parsePromptFile(`---\n${frontMatter}\n---\na red [circle]\n`, 'x.prompt').settings;

describe('setting precedence', () => {
  test('the file wins over the model, the model over the engine', () => {
    const { values, sources } = resolveSettings(written('steps: 8\nseed: 3'), { steps: 20, guidance: 2, negative: 'blur' });
    assert.deepEqual(values, { ...defaultSettings, seed: [3], steps: 8, guidance: 2, negative: 'blur' });
    assert.deepEqual(sources, {
      model: 'engine',
      seed: 'file',
      steps: 'file',
      guidance: 'model',
      scheduler: 'engine',
      size: 'engine',
      eta: 'engine',
      negative: 'model',
    });
  });

  test('without model defaults the engine fills in Stable Diffusion values', () => {
    const { values, sources } = resolveSettings(written('guidance: 4'));
    assert.equal(values.steps, 50);
    assert.equal(values.guidance, 4);
    assert.equal(sources.steps, 'engine');
    assert.equal(sources.guidance, 'file');
  });

  test('a size from the model applies unless the file sets one', () => {
    assert.deepEqual(resolveSettings(written('seed: 1'), { size: { width: 64, height: 48 } }).values.size, { width: 64, height: 48 });
    const fromFile = resolveSettings(written('size: 32'), { size: { width: 64, height: 48 } });
    assert.deepEqual(fromFile.values.size, { width: 32, height: 32 });
    assert.equal(fromFile.sources.size, 'file');
  });
});

describe('defaults file validation', () => {
  test('every allowed key, checked by the front matter rules', () => {
    const json = { defaults: { steps: 20, guidance: 2, eta: 0.5, size: '64x32', negative: 'noise', scheduler: 'ddim' } };
    assert.deepEqual(checkModelDefaults(json), {
      defaults: { steps: 20, guidance: 2, eta: 0.5, size: { width: 64, height: 32 }, negative: 'noise', scheduler: 'ddim' },
      finetune: {},
      problems: [],
    });
  });

  test('recommended finetune settings: a rate and a length, each checked', () => {
    assert.deepEqual(checkModelDefaults({ defaults: {}, finetune: { lr: 1e-4, steps: 200 } }), { defaults: {}, finetune: { lr: 1e-4, steps: 200 }, problems: [] });
    assert.deepEqual(checkModelDefaults({ defaults: {}, finetune: { lr: 0, steps: 2.5, rate: 1 } }).problems, [
      '"finetune.lr" must be a learning rate above 0 and at most 1, got 0',
      '"finetune.steps" must be an integer from 1 to 100000, got 2.5',
      'unknown setting "finetune.rate"; allowed: lr, steps, normWeight',
    ]);
    assert.deepEqual(checkModelDefaults({ defaults: {}, finetune: { normWeight: 2 } }).finetune, { normWeight: 2 });
    assert.deepEqual(checkModelDefaults({ defaults: {}, finetune: { normWeight: -1 } }).problems, ['"finetune.normWeight" must be a number >= 0 (the weight of L_norm; 0 = off), got -1']);
    assert.deepEqual(checkModelDefaults({ defaults: {}, finetune: 3 }).problems, ['"finetune" must be an object, e.g. {"lr": 0.0001, "steps": 200}']);
  });

  test('measured score recipes: a per-object failure recipe and a risk recipe of any statistic, with thresholds', () => {
    const failure = { layers: { grids: ['8x8'] }, heads: 'mean', steps: 'second-half', statistic: 'activation', threshold: 0.3 };
    const risk = { layers: { names: ['mid_block'] }, heads: 'max', steps: '1-5', statistic: 'mean-attention' };
    assert.deepEqual(checkModelDefaults({ defaults: {}, scores: { failure, risk } }), { defaults: {}, finetune: {}, scores: { failure, risk }, problems: [] });
    assert.deepEqual(checkModelDefaults({ defaults: {}, scores: { failure: { ...failure, statistic: 'loss', threshold: -1 }, risk: { ...risk, steps: 'early' }, extra: {} } }).problems, [
      'unknown key "scores.extra"; allowed: failure, risk',
      '"scores.failure.statistic" must be per object (activation or mean-attention) to name the object that may be missing, got loss',
      '"scores.failure.threshold" must be a number >= 0, got -1',
      `"scores.risk.steps": steps 'early' is not a window; use e.g. '1-5', '11', 'last-5' or one of middle, last, first-half, second-half, all`,
    ]);
    const lossRisk = { ...risk, statistic: 'loss', threshold: 0.5 };
    assert.deepEqual(checkModelDefaults({ defaults: {}, scores: { failure, risk: lossRisk } }).scores, { failure, risk: lossRisk }, 'a loss term is a valid risk');
    assert.deepEqual(checkModelDefaults({ defaults: {}, scores: { failure } }).problems, ['"scores.risk" is missing; "scores" needs both a failure and a risk recipe']);
    assert.deepEqual(checkModelDefaults({ defaults: {}, scores: [] }).problems, ['"scores" must be an object with "failure" and "risk" recipes']);
  });

  test('each bad value, unknown key and prompt-only key is named', () => {
    const { defaults, problems } = checkModelDefaults({
      defaults: { steps: 0, guidance: 'high', eta: 2, size: 30, seed: 1, guidence: 2, colour: 'red' },
      comment: 'x',
    });
    assert.deepEqual(defaults, {});
    assert.deepEqual(problems, [
      'unknown key "comment"; the file holds only "defaults", "finetune", "detector" and "scores"',
      '"defaults.steps" must be an integer from 1 to 1000, got 0',
      '"defaults.guidance" must be a number >= 0 (the classifier-free guidance scale), got "high"',
      '"defaults.eta" must be a number from 0 to 1, got 2',
      '"defaults.size" must be a multiple of 8 (e.g. 512) or WIDTHxHEIGHT (e.g. 512x768), got 30',
      `"defaults.seed" cannot be a model default (it belongs in the .prompt file's front matter); allowed: steps, guidance, scheduler, size, eta, negative`,
      'unknown setting "defaults.guidence"; did you mean "guidance"? allowed: steps, guidance, scheduler, size, eta, negative',
      'unknown setting "defaults.colour"; allowed: steps, guidance, scheduler, size, eta, negative',
    ]);
  });

  test('the top level must hold a "defaults" object', () => {
    for (const json of [null, [], { guidance: 2 }, { defaults: [1] }, { defaults: 2 }]) {
      assert.deepEqual(checkModelDefaults(json).problems, ['expected an object with a "defaults" object, e.g. {"defaults": {"guidance": 2, "steps": 20}}'], JSON.stringify(json));
    }
  });
});

describe('reading a model folder\'s defaults', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'model-defaults-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const folder = (name: string, content?: string): string => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    if (content !== undefined) writeFileSync(path.join(dir, MODEL_DEFAULTS_FILE), content);
    return dir;
  };

  test('the embedded tiny-shapes recommends guidance 2 and 20 steps (its model card)', async () => {
    assert.deepEqual(await readModelDefaults(path.join(MODELS, 'tiny-shapes')), { guidance: 2, steps: 20 });
  });

  test('a bad "scores" entry is a ModelError naming the file and the key; a file without one has no recipes', async () => {
    const dir = folder('bad-scores', JSON.stringify({ defaults: {}, scores: { failure: { layers: {}, heads: 'max', steps: '1-5', statistic: 'activation' }, risk: { layers: {}, heads: 'all', steps: '1-5', statistic: 'activation' } } }));
    await assert.rejects(readModelScores(dir), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.message, `${path.join(dir, MODEL_DEFAULTS_FILE)}: "scores.risk.heads" must be one of mean, max, got "all"`);
      return true;
    });
    assert.equal(await readModelScores(folder('no-scores', '{"defaults": {"steps": 20}}')), undefined);
  });

  test('the embedded tiny-shapes ships the score recipes its model card measured', async () => {
    const scores = await readModelScores(path.join(MODELS, 'tiny-shapes'));
    assert.deepEqual(scores?.failure, { layers: { names: ['up_blocks.1'] }, heads: 'max', steps: 'last', statistic: 'activation', threshold: 0.361 });
    assert.deepEqual(scores?.risk, { layers: { grids: ['8x8'] }, heads: 'mean', steps: '1-3', statistic: 'separate', threshold: 0.115 });
  });

  test('no file, no recommendations', async () => {
    assert.deepEqual(await readModelDefaults(folder('none')), {});
    assert.deepEqual(await readModelDefaults(path.join(work, 'missing')), {});
  });

  test('a bad file is a ModelError naming the file and each bad key', async () => {
    const dir = folder('bad', '{"defaults": {"guidance": -1, "stepz": 20}}');
    const file = path.join(dir, MODEL_DEFAULTS_FILE);
    await assert.rejects(readModelDefaults(dir), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(
        error.message,
        `${file}: "defaults.guidance" must be a number >= 0 (the classifier-free guidance scale), got -1\n` +
          `${file}: unknown setting "defaults.stepz"; did you mean "steps"? allowed: steps, guidance, scheduler, size, eta, negative`,
      );
      return true;
    });
  });

  test('a file that is not JSON names the file', async () => {
    const dir = folder('not-json', '{defaults: {guidance: 2}}');
    await assert.rejects(readModelDefaults(dir), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.ok(error.message.startsWith(`${path.join(dir, MODEL_DEFAULTS_FILE)}: not valid JSON (`), error.message);
      return true;
    });
  });

  test('a .prompt file on tiny-shapes that sets nothing gets guidance 2 and 20 steps; what it sets wins', async () => {
    const lookup = { builtinModelsDir: MODELS };
    const bare = await resolveFileSettings({}, path.join(work, 'x.prompt'), lookup);
    assert.equal(bare.modelRoot, path.join(MODELS, 'tiny-shapes'));
    assert.equal(bare.values.guidance, 2);
    assert.equal(bare.values.steps, 20);
    assert.equal(bare.sources.guidance, 'model');
    assert.equal(bare.sources.steps, 'model');
    assert.equal(bare.values.eta, 0);
    assert.equal(bare.sources.eta, 'engine');

    const set = await resolveFileSettings(written('guidance: 4\nsteps: 8'), path.join(work, 'x.prompt'), lookup);
    assert.equal(set.values.guidance, 4);
    assert.equal(set.values.steps, 8);
    assert.equal(set.sources.guidance, 'file');
    assert.equal(set.sources.steps, 'file');
  });

  test('a model given by path gets its own folder\'s defaults, or the engine\'s without a file', async () => {
    folder('mine', '{"defaults": {"steps": 12, "eta": 0.3}}');
    const prompt = path.join(work, 'x.prompt');
    const mine = await resolveFileSettings(written('model: ./mine'), prompt, { builtinModelsDir: MODELS });
    assert.equal(mine.modelRoot, path.join(work, 'mine'));
    assert.deepEqual([mine.values.steps, mine.values.eta, mine.values.guidance], [12, 0.3, 7.5]);
    assert.deepEqual([mine.sources.steps, mine.sources.eta, mine.sources.guidance], ['model', 'model', 'engine']);
    const plain = await resolveFileSettings(written('model: ./none'), prompt, { builtinModelsDir: MODELS });
    assert.deepEqual([plain.values.steps, plain.values.guidance, plain.sources.steps], [50, 7.5, 'engine']);
  });
});

describe('the detector world a model folder names ("detector")', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'model-world-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const folder = (name: string, content?: string): string => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    if (content !== undefined) writeFileSync(path.join(dir, MODEL_DEFAULTS_FILE), content);
    return dir;
  };

  test('a known world is validated and read', async () => {
    assert.deepEqual(checkModelDefaults({ defaults: {}, detector: 'neglect-shapes' }), { defaults: {}, finetune: {}, detector: 'neglect-shapes', problems: [] });
    const world = await readModelDetectorWorld(folder('neglect', '{"defaults": {"steps": 20}, "detector": "neglect-shapes"}'));
    assert.equal(world.name, 'neglect-shapes');
    assert.deepEqual([...world.colours], ['red', 'blue', 'green', 'yellow', 'purple']);
    assert.equal(world.shapes.length, 10);
    assert.equal((await readModelDetectorWorld(folder('tiny', '{"defaults": {}, "detector": "tiny-shapes"}'))).name, 'tiny-shapes');
  });

  test('without the key, or without the file, the world is tiny-shapes\' (the first embedded model\'s)', async () => {
    assert.equal((await readModelDetectorWorld(folder('no-key', '{"defaults": {"steps": 20}}'))).name, 'tiny-shapes');
    assert.equal((await readModelDetectorWorld(folder('no-file'))).name, 'tiny-shapes');
    assert.equal((await readModelDetectorWorld(path.join(MODELS, 'tiny-shapes'))).name, 'tiny-shapes');
    assert.equal('detector' in checkModelDefaults({ defaults: {} }), false);
  });

  test('an unknown world is a ModelError naming the file, the value and the known worlds', async () => {
    const dir = folder('unknown', '{"defaults": {}, "detector": "neglect-shape"}');
    const file = path.join(dir, MODEL_DEFAULTS_FILE);
    const message = `${file}: "detector" must name a detector world (tiny-shapes, neglect-shapes), got "neglect-shape"`;
    for (const read of [readModelDetectorWorld, readModelDefaults]) {
      await assert.rejects(read(dir), (error: unknown) => {
        assert.ok(error instanceof ModelError);
        assert.equal(error.message, message);
        return true;
      });
    }
    assert.deepEqual(checkModelDefaults({ defaults: {}, detector: 3 }).problems, ['"detector" must name a detector world (tiny-shapes, neglect-shapes), got 3']);
  });
});
