// End to end through the real embedded ONNX model: .prompt text → run folder.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, promises as fs, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MODEL_DEFAULTS_FILE } from '../../src/engine/model/modelDefaults';
import { ModelError } from '../../src/engine/model/modelFolder';
import { CancelledError } from '../../src/engine/pipeline/pipeline';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { decodeSafetensors } from '../../src/engine/safetensors';
import { InputError } from '../../src/engine/files/errors';
import type { SelectionOptions } from '../../src/engine/attention';
import { runPrompt, runPromptSeeds, type RunPromptRequest } from '../../src/engine/run/runPrompt';
import { ATTENTION_FILE } from '../../src/engine/record/files';
import { storedMaps } from '../../src/engine/run/storedView';
import { seedSummary } from '../../src/engine/run/seedSummary';
import { runFolderDiff } from './runFolderDiff';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODELS = path.join(ROOT, 'models');
const TEXT = `---
model: tiny-shapes
seed: 3
steps: 4
guidance: 4
---
# two objects
a red [circle] and a blue [square]
a green [triangle]
`;

describe('runPrompt on the embedded model', () => {
  let work: string;
  const pipelines = new PipelineCache();
  const request = (overrides: Partial<RunPromptRequest> = {}): RunPromptRequest => ({
    file: path.join(work, 'shapes.prompt'),
    text: TEXT,
    runsDir: path.join(work, 'runs'),
    builtinModelsDir: MODELS,
    provider: 'cpu',
    ...overrides,
  });

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'prompt-lens-run-'));
  });
  after(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  test('writes a complete run record for the first prompt', async () => {
    const { result, written } = await runPrompt(request(), pipelines);
    assert.equal(result.prompt, 'a red circle and a blue square');
    assert.equal(result.settings.seed, 3);
    assert.equal(result.settings.steps, 4);
    assert.ok(written.folder.startsWith(path.join(work, 'runs')));
    for (const file of ['image.png', 'image-large.png', 'run.json', 'maps.safetensors', 'report.html', 'maps/overlap.png']) {
      assert.ok(existsSync(path.join(written.folder, file)), `${file} is written`);
    }
    const json = JSON.parse(await fs.readFile(path.join(written.folder, 'run.json'), 'utf8'));
    assert.equal(json.prompt, result.prompt);
    assert.deepEqual(json.settings, { seed: 3, steps: 4, guidance: 4, eta: 0, negative: '', scheduler: 'ddim' });
    assert.deepEqual(json.settingSources, { seed: 'file', steps: 'file', guidance: 'file', eta: 'engine', negative: 'engine', scheduler: 'engine', size: 'engine' });
    assert.deepEqual(json.objects.map((o: { word: string }) => o.word), ['circle', 'square']);
    assert.equal(json.model.id, 'tiny-shapes');
    assert.match(json.model.hash, /^[0-9a-f]{16}$/);
    assert.equal(json.provider.name, 'cpu');
    assert.deepEqual(
      json.words.filter((w: { isObject: boolean }) => w.isObject).map((w: { word: string }) => w.word),
      ['circle', 'square'],
    );
    assert.ok(json.scores.overlap >= 0 && json.scores.overlap <= 0.5, 'prod/sum of two probabilities is at most 1/2');
    assert.equal(json.scores.activations.length, 2);
    assert.ok(['circle', 'square'].includes(json.scores.weakest));
    const maps = decodeSafetensors(await fs.readFile(path.join(written.folder, 'maps.safetensors')));
    assert.deepEqual(maps.tensors.get('word_maps')?.shape, [result.words.length, 32, 32]);
    assert.deepEqual(maps.tensors.get('timeline')?.shape.slice(0, 2), [4, result.words.length]);
    assert.deepEqual(maps.tensors.get('object_masks')?.shape, [2, 32, 32]);
    const masks = result.scores?.masks ?? new Uint8Array();
    assert.ok(masks.some((v) => v === 1), 'each mask marks at least its own peak');
    assert.deepEqual(
      result.layers.map((l) => `${l.gridH}x${l.gridW}/${l.heads}`),
      ['16x16/2', '8x8/4', '8x8/4', '8x8/4', '8x8/4', '16x16/2', '16x16/2'],
    );
    assert.deepEqual(JSON.parse(maps.metadata.words), result.words.map((w) => w.word));
    const html = await fs.readFile(written.report, 'utf8');
    assert.match(html, /data:image\/png;base64,/);
    assert.match(html, /<u>circle<\/u>/);
    // The failure score by tiny-shapes' measured recipe: per object, weakest first, each object's value at every step.
    const failure = json.failure;
    const recipes = JSON.parse(await fs.readFile(path.join(MODELS, 'tiny-shapes', MODEL_DEFAULTS_FILE), 'utf8')).scores;
    assert.equal(failure.source, 'model');
    assert.deepEqual(failure.failure.recipe, recipes.failure);
    assert.deepEqual(failure.risk.recipe, recipes.risk);
    assert.deepEqual([...failure.failure.objects.map((o: { word: string }) => o.word)].sort(), ['circle', 'square']);
    assert.ok(failure.failure.objects[0].score <= failure.failure.objects[1].score, 'the weakest leads');
    assert.deepEqual(failure.failure.series.map((s: { word: string; values: number[] }) => [s.word, s.values.length]), [['circle', 4], ['square', 4]]);
    assert.match(failure.failure.verdict, /(may be missing|every object scores as present).*objects that appear score ≥ \d\.\d\d on this model$/);
    assert.match(failure.risk.verdict, /^prompt (not )?at risk: the image's S&E overlap L_sep at steps? [\d–]+ is \d\.\d\d; images that succeed score ≤ \d\.\d\d on this model$/);
    assert.ok(html.indexOf('class="failure') < html.indexOf('class="hero"'), 'the report leads with the failure score');
    assert.match(html, /<svg class="steps"[^]*<polyline[^]*<polyline[^]*<\/svg>/, 'the per-step plot, one line per object');
  });

  test('the same seed gives the same image; another seed does not', async () => {
    const a = await runPrompt(request({ line: 8 }), pipelines);
    const b = await runPrompt(request({ line: 8 }), pipelines);
    const c = await runPrompt(request({ line: 8, overrides: { seed: 4 } }), pipelines);
    assert.equal(a.result.prompt, 'a green triangle');
    assert.deepEqual(a.result.image.data, b.result.image.data);
    assert.notDeepEqual(a.result.image.data, c.result.image.data);
    assert.notEqual(a.written.folder, b.written.folder, 'a second run never overwrites the first');
    assert.equal(a.result.scores?.overlap, 0, 'one object has no overlap');
  });

  test('a list of seeds gives one run per seed, in order, each reported as it is written; runPrompt and an override give one', async () => {
    const text = TEXT.replace('seed: 3', 'seed: [3, 5]');
    const heard: string[] = [];
    const runs = await runPromptSeeds(request({ text }), pipelines, {}, { onWritten: (run, i, of) => heard.push(`${run.result.settings.seed} ${i + 1}/${of}`) });
    assert.deepEqual(runs.map((r) => r.result.settings.seed), [3, 5]);
    assert.deepEqual(heard, ['3 1/2', '5 2/2']);
    assert.notEqual(runs[0].written.folder, runs[1].written.folder);
    assert.notDeepEqual(runs[0].result.image.data, runs[1].result.image.data);
    const single = await runPrompt(request({ text }), pipelines);
    assert.deepEqual(single.result.image.data, runs[0].result.image.data, 'runPrompt: the first seed');
    const overridden = await runPromptSeeds(request({ text, overrides: { seed: 9 } }), pipelines);
    assert.deepEqual(overridden.map((r) => [r.result.settings.seed, r.result.settings.sources?.seed]), [[9, 'override']]);
    assert.match(
      seedSummary(runs.map((r) => r.result)),
      /^2 seeds \(3, 5\) · all objects found in \d\/2 · mean overlap \d\.\d{3} · mean weakest activation \d\.\d{3} · \d\/2 seeds may have lost an object \(failure score below [\d.]+(: seeds [\d, ]+)?\) · prompt risk score \d\.\d{3} \((not )?at risk: (above|≤) [\d.]+\)$/,
    );
  });

  test("a seed list is sampled in batches; each seed's folder holds what a run of that seed alone writes, timings aside", async () => {
    // Ten seeds on tiny-shapes (8 per UNet call): a batch of 8, then one of 2.
    const seeds = [3, 5, 8, 13, 21, 34, 55, 89, 144, 233];
    const runsDir = path.join(work, 'batched');
    const runs = await runPromptSeeds(request({ text: TEXT.replace('seed: 3', `seed: [${seeds.join(', ')}]`), runsDir }), pipelines);
    assert.deepEqual(runs.map((r) => r.result.settings.seed), seeds);
    assert.deepEqual(runs.map((r) => r.result.timings.batchSize), [8, 8, 8, 8, 8, 8, 8, 8, 2, 2]);
    for (const at of [1, 9]) {
      const alone = await runPrompt(request({ text: TEXT.replace('seed: 3', `seed: ${seeds[at]}`), runsDir: path.join(work, 'alone') }), pipelines);
      assert.equal(alone.result.timings.batchSize, 1);
      assert.equal(runFolderDiff(runs[at].written.folder, alone.written.folder), undefined, `seed ${seeds[at]}`);
    }
  });

  test('a cancel during a batch of seeds keeps the batches written before it, whole, and leaves nothing of its own', async () => {
    const runsDir = path.join(work, 'cancelled-batch');
    const abort = new AbortController();
    let steps = 0;
    const written: number[] = [];
    await assert.rejects(
      runPromptSeeds(
        request({ text: TEXT.replace('seed: 3', `seed: [${Array.from({ length: 12 }, (_, i) => i).join(', ')}]`), runsDir }),
        pipelines,
        {
          signal: abort.signal,
          // The first batch (seeds 0-7) takes 4 steps; the second is cancelled at its second.
          onProgress: () => {
            if (++steps === 6) abort.abort();
          },
        },
        { onWritten: (run) => written.push(run.result.settings.seed) },
      ),
      CancelledError,
    );
    assert.deepEqual(written, [0, 1, 2, 3, 4, 5, 6, 7]);
    const folders = await fs.readdir(runsDir);
    assert.equal(folders.length, 8, 'no staging folder of the cancelled batch is left');
    for (const folder of folders) {
      const json = JSON.parse(await fs.readFile(path.join(runsDir, folder, 'run.json'), 'utf8'));
      assert.ok(existsSync(path.join(runsDir, folder, 'report.html')) && json.settings.seed < 8, `${folder} is a whole run of the first batch`);
    }
  });

  test("a model name from the user's own list resolves to its folder", async () => {
    const { result } = await runPrompt(
      request({ text: '---\nmodel: mine\nsteps: 2\n---\na [circle]\n', models: { mine: path.join(MODELS, 'tiny-shapes') } }),
      pipelines,
    );
    assert.equal(result.model.path, path.join(MODELS, 'tiny-shapes'));
  });

  test('a cancelled run leaves no run folder behind', async () => {
    const runsDir = path.join(work, 'cancelled');
    const abort = new AbortController();
    await assert.rejects(
      runPrompt(request({ runsDir }), pipelines, {
        signal: abort.signal,
        onProgress: (p) => {
          if (p.step === 2) abort.abort();
        },
      }),
      CancelledError,
    );
    assert.deepEqual(existsSync(runsDir) ? await fs.readdir(runsDir) : [], []);
  });

  test('the display maps follow a layer/head/step selection; a wrong one lists the valid layers', async () => {
    const { result } = await runPrompt(request({ selection: { grids: [8], heads: [0], steps: { from: 0, to: 1 } } }), pipelines);
    assert.match(result.mapRecipe, /8x8 layers, heads 0, steps 1–2/);
    assert.ok(result.scores, 'scores still come from the S&E layers');
    await assert.rejects(
      runPrompt(request({ selection: { layers: ['up_blocks.9'] } }), pipelines),
      (e: Error) => e instanceof InputError && /selection: unknown layer 'up_blocks.9'; valid layers are:\n {2}down_blocks.0.attentions.0/.test(e.message),
    );
  });

  test("filtering a run's maps by layer, head or steps is a view of its kept attention: what sampling again gives, no new folder", async () => {
    const first = await runPrompt(request(), pipelines);
    const runsDir = path.join(work, 'runs');
    const before = (await fs.readdir(runsDir)).length;
    for (const selection of [{ grids: ['8x8'], heads: [1] }, { steps: { from: 0, to: 1 } }, { layers: ['up_blocks.1'], steps: { from: 2, to: 3 } }] as SelectionOptions[]) {
      const started = performance.now();
      const view = await storedMaps(first.written.folder, selection);
      const viewMs = performance.now() - started;
      assert.ok(view, `${JSON.stringify(selection)} comes from the kept attention`);
      assert.equal((await fs.readdir(runsDir)).length, before, 'nothing written');
      const sampled = await runPrompt(request({ selection }), pipelines);
      assert.equal(view.mapRecipe, sampled.result.mapRecipe);
      // Kept as float16: within its rounding of each map's largest value.
      let worst = 0;
      for (const [i, w] of sampled.result.words.entries()) {
        const max = Math.max(...w.map);
        for (let j = 0; j < w.map.length; j++) worst = Math.max(worst, Math.abs(view.maps[i][j] - w.map[j]) / max);
      }
      assert.ok(worst < 2e-3, `${JSON.stringify(selection)}: maps differ by ${worst} of their maximum`);
      console.log(`${JSON.stringify(selection)}: view in ${viewMs.toFixed(0)} ms, sampling again ${sampled.result.timings.totalMs.toFixed(0)} ms, worst ${worst.toExponential(2)}`);
      await fs.rm(sampled.written.folder, { recursive: true });
    }
    const kept = await fs.stat(path.join(first.written.folder, ATTENTION_FILE));
    console.log(`attention kept: ${(kept.size / 1024).toFixed(0)} KiB`);
    await assert.rejects(storedMaps(first.written.folder, { layers: ['up_blocks.9'] }), (e: Error) => e instanceof InputError && /^selection: unknown layer 'up_blocks.9'/.test(e.message));
  });

  test("a file that sets neither guidance nor steps samples tiny-shapes at its recommended 2 and 20, recorded as the model's", async () => {
    const bare = await runPrompt(request({ text: '---\nseed: 5\n---\na red [circle]\n' }), pipelines);
    assert.equal(bare.result.settings.guidance, 2);
    assert.equal(bare.result.settings.steps, 20);
    const json = JSON.parse(await fs.readFile(path.join(bare.written.folder, 'run.json'), 'utf8'));
    assert.deepEqual(json.settings, { seed: 5, steps: 20, guidance: 2, eta: 0, negative: '', scheduler: 'ddim' });
    assert.deepEqual(json.settingSources, { seed: 'file', steps: 'model', guidance: 'model', eta: 'engine', negative: 'engine', scheduler: 'engine', size: 'engine' });
    assert.equal(json.maps.timeline.timesteps.length, 20, 'twenty steps were sampled');
    // The same values written in the file give the same image: the defaults reached the sampler.
    const explicit = await runPrompt(request({ text: '---\nseed: 5\nguidance: 2\nsteps: 20\n---\na red [circle]\n' }), pipelines);
    assert.deepEqual(bare.result.image.data, explicit.result.image.data);
    const sd = await runPrompt(request({ text: '---\nseed: 5\nguidance: 7.5\nsteps: 20\n---\na red [circle]\n' }), pipelines);
    assert.notDeepEqual(bare.result.image.data, sd.result.image.data, 'guidance 7.5 would give another image');
  });

  test("a CLI override is recorded as such, not as the file's or the model's", async () => {
    const { result } = await runPrompt(request({ text: '---\nseed: 5\n---\na [circle]\n', overrides: { steps: 2, seed: 9 } }), pipelines);
    assert.deepEqual([result.settings.seed, result.settings.steps, result.settings.guidance], [9, 2, 2]);
    assert.equal(result.settings.sources?.seed, 'override');
    assert.equal(result.settings.sources?.steps, 'override');
    assert.equal(result.settings.sources?.guidance, 'model');
  });

  test("a model folder's bad defaults file stops the run, naming the file; a size it recommends is checked against the model", async () => {
    // The embedded model's parts linked into a folder with its own prompt_lens.json.
    const model = path.join(work, 'linked-model');
    mkdirSync(model);
    for (const part of ['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'unet']) {
      symlinkSync(path.join(MODELS, 'tiny-shapes', part), path.join(model, part));
    }
    const defaultsFile = path.join(model, MODEL_DEFAULTS_FILE);
    const text = '---\nmodel: ./linked-model\n---\na [circle]\n';
    writeFileSync(defaultsFile, '{"defaults": {"steps": 2.5}}');
    await assert.rejects(
      runPrompt(request({ text }), pipelines),
      (e: Error) =>
        e instanceof InputError &&
        e.cause instanceof ModelError &&
        e.message === `${path.join(work, 'shapes.prompt')}:2:8: model: ${defaultsFile}: "defaults.steps" must be an integer from 1 to 1000, got 2.5`,
    );
    writeFileSync(defaultsFile, '{"defaults": {"size": 64, "steps": 2}}');
    await assert.rejects(
      runPrompt(request({ text }), pipelines),
      (e: Error) => e instanceof InputError && e.message.startsWith(`${defaultsFile}: "defaults.size" does not fit the model (size: this model only makes 32x32 images, not 64x64`),
    );
    writeFileSync(defaultsFile, '{"defaults": {"steps": 2, "guidance": 1.5}}');
    const { result } = await runPrompt(request({ text }), pipelines);
    assert.deepEqual([result.settings.steps, result.settings.guidance], [2, 1.5]);
    assert.equal(result.failure?.source, 'engine', "without measured recipes: the paper's layers");
    assert.match(result.failure?.failure.verdict ?? '', /^weakest object: circle, activation \d\.\d\d \(no measured threshold for this model\)$/);
    // A recipe naming layers the model does not have stops the run, naming the file and the key.
    const recipe = { layers: { grids: ['32x32'] }, heads: 'mean', steps: '1-5', statistic: 'activation' };
    writeFileSync(defaultsFile, JSON.stringify({ defaults: { steps: 2 }, scores: { failure: recipe, risk: { ...recipe, layers: { grids: ['8x8'] } } } }));
    await assert.rejects(
      runPrompt(request({ text }), pipelines),
      (e: Error) => e instanceof InputError && e.message === `${defaultsFile}: "scores.failure" does not fit this model: no cross-attention layer has a 32x32 grid; grids are 16x16, 8x8`,
    );
  });

  test('bad input names the file, line and setting', async () => {
    await assert.rejects(
      runPrompt(request({ text: '---\nsteps: many\n---\na [circle]\n' }), pipelines),
      (e: Error) => e instanceof InputError && /shapes\.prompt:2:\d+: error: .*steps/.test(e.message),
    );
    await assert.rejects(
      runPrompt(request({ text: '---\nmodel: no-such-model\n---\na [circle]\n' }), pipelines),
      (e: Error) => e instanceof InputError && /shapes\.prompt:2:8: model: no model is named "no-such-model"/.test(e.message),
    );
    await assert.rejects(
      runPrompt(request({ text: '---\nmodel: ./missing-folder\n---\na [circle]\n' }), pipelines),
      (e: Error) => e instanceof InputError && e.message === `${path.join(work, 'shapes.prompt')}:2:8: model: Model folder not found: ${path.join(work, 'missing-folder')}`,
    );
    await assert.rejects(runPrompt(request({ text: '# nothing\n' }), pipelines), /has no prompt lines/);
    await assert.rejects(
      runPrompt(request({ text: '---\nmodel: ./my-model\n---\na [circle]\n', allowModelPaths: false }), pipelines),
      (e: Error) => e instanceof InputError && /2:8: model: this workspace is not trusted/.test(e.message),
    );
    await assert.rejects(
      runPrompt(request({ text: '---\nsize: 64\n---\na [circle]\n' }), pipelines),
      (e: Error) => e instanceof InputError && /2:\d+: size: this model only makes 32x32 images, not 64x64/.test(e.message),
    );
  });
});
