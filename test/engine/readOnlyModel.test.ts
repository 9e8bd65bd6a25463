/**
 * A model folder Prompt Lens cannot write to (a read-only install): the instrumented copy and the finetune's
 * gradient models go to the user cache, keyed per model, and a damaged cached copy is made again.
 * As root, chmod does not stop writes: the cache location's writability probe then says "not writable" for the
 * model folder, which sends it down the same path the real probe takes for a user.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { checkCompatibility } from '../../src/engine/model/compatibility';
import { cacheDirFor, defaultCacheLocation, type CacheLocation } from '../../src/engine/onnx/cache';
import { instrumentUnet, loadOriginalKeys } from '../../src/engine/onnx/instrument';
import { decodeModel } from '../../src/engine/onnx/proto';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { runFinetune } from '../../src/engine/run/runFinetune';
import { runPrompt } from '../../src/engine/run/runPrompt';
import { buildAttentionModel } from '../unit/onnx/syntheticModels';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODELS = path.join(ROOT, 'models');
const AS_ROOT = process.getuid?.() === 0;

const made: string[] = [];
after(() => {
  for (const dir of made) {
    chmodTree(dir, true);
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function chmodTree(dir: string, writable: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chmodTree(full, writable);
    else chmodSync(full, writable ? 0o644 : 0o444);
  }
  chmodSync(dir, writable ? 0o755 : 0o555);
}

/** Every file under `dir` with its size, to show nothing was added or changed. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${path.relative(dir, path.join(e.parentPath, e.name))}:${statSync(path.join(e.parentPath, e.name)).size}`)
    .sort();
}

/** A read-only copy of the embedded model, and a cache location that knows it cannot write there. */
function readOnlyTinyShapes(): { model: string; cache: CacheLocation } {
  const model = path.join(tempDir('pl-readonly-'), 'tiny-shapes');
  cpSync(path.join(MODELS, 'tiny-shapes'), model, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') && !src.includes(`${path.sep}train`) });
  chmodTree(model, false);
  const userDir = tempDir('pl-user-cache-');
  return { model, cache: AS_ROOT ? { userDir, writable: async () => false } : { userDir } };
}

describe('a read-only model folder', () => {
  test('runs and checks the embedded model from a read-only copy, writing only to the user cache', async () => {
    const { model, cache } = readOnlyTinyShapes();
    const before = listing(model);
    const work = tempDir('pl-readonly-work-');
    const { result } = await runPrompt(
      { file: path.join(work, 'a.prompt'), text: `---\nmodel: ${model}\nsteps: 2\n---\na red [circle] and a blue [square]\n`, builtinModelsDir: MODELS, provider: 'cpu', runsDir: path.join(work, 'runs') },
      new PipelineCache({ cache }),
    );
    assert.equal(result.model.path, model);
    assert.deepEqual(listing(model), before, 'nothing written in the model folder');
    const cached = listing(cache.userDir);
    assert.equal(cached.filter((f) => /^instrumented\/tiny-shapes-[0-9a-f]{16}\/model\.prompt-lens-[0-9a-f]{8}\.onnx:/.test(f)).length, 1, cached.join('\n'));
    const report = await checkCompatibility(model, cache);
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    assert.deepEqual(listing(model), before);
  });

  test("the finetune's gradient models go to the user cache too", async () => {
    const { model, cache } = readOnlyTinyShapes();
    const before = listing(model);
    const work = tempDir('pl-readonly-ft-');
    const file = path.join(work, 'pair.prompt');
    const text = `---\nmodel: ${model}\nsteps: 2\n---\na red [circle] and a blue [square]\n`;
    await runFinetune({ file, text, overrides: { finetuneSteps: 1 }, builtinModelsDir: MODELS, provider: 'cpu', runsDir: path.join(work, 'runs') }, new PipelineCache({ cache }));
    assert.deepEqual(listing(model), before, 'nothing written in the model folder');
    assert.ok(listing(cache.userDir).some((f) => /\/model\.prompt-lens-[0-9a-f]{8}\.grad-[0-9a-f]{8}\.onnx:/.test(f)), 'the gradient model is cached');
  });

  test('two models never share a cache folder; the CLI cache follows XDG_CACHE_HOME', async () => {
    const a = readOnlyTinyShapes();
    const b = readOnlyTinyShapes();
    const cache = { userDir: a.cache.userDir, writable: async () => false };
    const first = await cacheDirFor(path.join(a.model, 'unet', 'model.onnx'), cache);
    const second = await cacheDirFor(path.join(b.model, 'unet', 'model.onnx'), cache);
    assert.equal(first.beside, false);
    assert.notEqual(first.dir, second.dir);
    assert.equal(defaultCacheLocation({ XDG_CACHE_HOME: '/x/cache' }).userDir, '/x/cache/prompt-lens');
    assert.match(defaultCacheLocation({}).userDir, /\/\.cache\/prompt-lens$/);
    const writable = await cacheDirFor(path.join(tempDir('pl-writable-'), 'model.onnx'));
    assert.equal(writable.beside, true, 'a writable folder keeps its copy beside the model');
  });

  test('external weights and shared weights: the cached copy gets them beside it and computes what the original does', async () => {
    const dir = tempDir('pl-readonly-ext-');
    const modelPath = path.join(dir, 'model.onnx');
    writeFileSync(modelPath, buildAttentionModel({ externalDir: dir }).bytes);
    chmodTree(dir, false);
    const userDir = tempDir('pl-user-cache-');
    const cache: CacheLocation = AS_ROOT ? { userDir, writable: async () => false } : { userDir };
    for (const shareWeights of [false, true]) {
      const inst = await instrumentUnet(modelPath, { perHead: false, shareWeights, cache });
      assert.ok(inst.path.startsWith(userDir));
      const copy = decodeModel(readFileSync(inst.path));
      const locations = new Set(copy.graph!.initializer!.flatMap((t) => (t.externalData ?? []).filter((e) => e.key === 'location').map((e) => e.value)));
      assert.ok(locations.size > 0, 'the copy reads external weights');
      const feeds = {
        hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.sin(i)), [2, 5, 8]),
        encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 3 * 6 }, (_, i) => Math.cos(i)), [2, 3, 6]),
      };
      const expected = await (await ort.InferenceSession.create(modelPath)).run(feeds);
      const keys = await loadOriginalKeys(inst);
      const keyFeeds = Object.fromEntries(inst.layers.map((l) => [l.keyInput, new ort.Tensor('float32', keys.get(l.name)!, l.keyShape)]));
      const got = await (await ort.InferenceSession.create(inst.path)).run({ ...feeds, ...keyFeeds });
      assert.deepEqual([...(got.out_sample.data as Float32Array)], [...(expected.out_sample.data as Float32Array)]);
    }
  });
});

describe('a damaged cached copy', () => {
  test('is made again, beside the model and in the user cache', async () => {
    const writable = path.join(tempDir('pl-damaged-'), 'model.onnx');
    copyFileSync(path.join(MODELS, 'tiny-shapes', 'unet', 'model.onnx'), writable);
    const { model, cache } = readOnlyTinyShapes();
    for (const [unet, options] of [[writable, {}], [path.join(model, 'unet', 'model.onnx'), { cache }]] as const) {
      const first = await instrumentUnet(unet, { perHead: true, ...options });
      const size = statSync(first.path).size;
      truncateSync(first.path, size - 1000);
      const again = await instrumentUnet(unet, { perHead: true, ...options });
      assert.equal(again.path, first.path);
      assert.equal(statSync(again.path).size, size, 'the copy was written again');
      await (await ort.InferenceSession.create(again.path)).release();
      writeFileSync(again.keysPath, 'not safetensors');
      const keys = await loadOriginalKeys(await instrumentUnet(unet, { perHead: true, ...options }));
      assert.equal(keys.size, first.layers.length, 'the keys file was written again');
    }
  });
});
