/** `prompt-lens check`: the compatibility report, line by line, for an embedded model, an SD export and a non-model. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkModel } from '../../src/cli/check';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { decodeModel, encodeModel, EXTERNAL } from '../../src/engine/onnx/proto';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { runPrompt } from '../../src/engine/run/runPrompt';
import { ClipTokenizer, TOKENIZER_FILE_LIMIT } from '../../src/engine/tokenizer';
import { copyFixture } from './sdExport';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODELS = path.join(ROOT, 'models');

async function lines(model: string, cwd?: string): Promise<{ ok: boolean; out: string[] }> {
  const out: string[] = [];
  const ok = await checkModel(model, MODELS, (line) => out.push(line), cwd);
  return { ok, out };
}

/** A private copy of the embedded model (without its training files) to break one thing in. */
function tinyShapesCopy(): string {
  const dir = copyFixture(path.join(MODELS, 'tiny-shapes'), 'pl-check-broken-');
  rmSync(path.join(dir, 'train'), { recursive: true, force: true });
  return dir;
}

/** The ✗ lines of a check, each as "part: detail". */
function failures(out: string[]): string[] {
  return out.filter((l) => l.startsWith('✗ ')).map((l) => l.slice(2));
}

test('an embedded model by name: every part passes', async () => {
  const { ok, out } = await lines('tiny-shapes');
  assert.equal(ok, true);
  assert.equal(out[0], path.join(MODELS, 'tiny-shapes'));
  assert.deepEqual(out.slice(1, -1).map((l) => l.split(':')[0]), ['✓ folder layout', '✓ recommended settings', '✓ tokenizer', '✓ scheduler', '✓ text encoder', '✓ UNet inputs', '✓ VAE decoder', '✓ UNet cross-attention']);
  assert.match(out.join('\n'), /recommended settings: prompt_lens\.json: .*guidance 2/);
  assert.equal(out.at(-1), 'Prompt Lens can use this model.');
});

test('an SD 1.x export by path: its 16 cross-attention layers', async () => {
  const { ok, out } = await lines(copyFixture(path.join(ROOT, 'test', 'fixtures', 'sd-tiny'), 'pl-check-'));
  assert.equal(ok, true);
  assert.match(out.join('\n'), /✓ UNet cross-attention: 16 cross-attention layers found and instrumented/);
});

test('a folder that is not a model: what is missing, and a failure', async () => {
  const { ok, out } = await lines(mkdtempSync(path.join(tmpdir(), 'pl-check-empty-')));
  assert.equal(ok, false);
  assert.match(out[1], /^✗ folder layout: .*model_index\.json is missing/);
  assert.equal(out.at(-1), 'Prompt Lens cannot use this model as it is: see ✗ above.');
});

test('a model name is resolved as a .prompt file resolves model:; a bare name that is a folder here gets a hint', async () => {
  const unknown = await lines('no-such-model');
  assert.equal(unknown.ok, false);
  assert.match(unknown.out[0], /^✗ model: no model is named "no-such-model" \(embedded: neglect-shapes, tiny-shapes\)/);
  const here = mkdtempSync(path.join(tmpdir(), 'pl-check-cwd-'));
  cpSync(path.join(ROOT, 'test', 'fixtures', 'sd-tiny'), path.join(here, 'my-export'), { recursive: true, filter: (src) => !src.includes('.prompt-lens-') });
  const bare = await lines('my-export', here);
  assert.equal(bare.ok, false);
  assert.match(bare.out[0], /; a folder "my-export" is here: check \.\/my-export$/);
  const relative = await lines('./my-export', here);
  assert.equal(relative.ok, true);
  assert.equal(relative.out[0], path.join(here, 'my-export'));
});

test('model_index.json that is not JSON: the export is damaged', async () => {
  const dir = tinyShapesCopy();
  writeFileSync(path.join(dir, 'model_index.json'), '{"_class_name": "StableDiffusionPipeline",');
  const { ok, out } = await lines(dir);
  assert.equal(ok, false);
  assert.deepEqual(failures(out).map((l) => l.split(':')[0]), ['folder layout']);
  assert.match(out[1], /model_index\.json is not valid JSON \(.*\): the export is damaged; export the model again/);
});

test('tokenizer ids beyond the text encoder\'s embedding rows: another model\'s tokenizer', async () => {
  const dir = tinyShapesCopy();
  const vocabFile = path.join(dir, 'tokenizer', 'vocab.json');
  const vocab = JSON.parse(readFileSync(vocabFile, 'utf8')) as Record<string, number>;
  writeFileSync(vocabFile, JSON.stringify({ ...vocab, 'hexagon</w>': 585 }));
  const { ok, out } = await lines(dir);
  assert.equal(ok, false);
  assert.deepEqual(failures(out), [
    "text encoder: the tokenizer's ids go up to 585 but the text encoder embeds only 585 tokens (ids 0-584): the tokenizer belongs to another model; use the tokenizer exported with this text encoder",
  ]);
});

test('model_max_length 1e30 (no limit) takes the text encoder\'s 16 positions, and the model runs', async () => {
  const dir = tinyShapesCopy();
  const configFile = path.join(dir, 'tokenizer', 'tokenizer_config.json');
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('"model_max_length": 16', '"model_max_length": 1e30'));
  const { ok, out } = await lines(dir);
  assert.equal(ok, true, out.join('\n'));
  assert.match(out.join('\n'), /✓ tokenizer: CLIP BPE, 585 entries, 16 tokens/);
  const folder = await openModelFolder(dir);
  assert.equal((await ClipTokenizer.fromFolder(folder.tokenizerDir, folder.textSequenceLength)).maxLength, 16);
  const work = mkdtempSync(path.join(tmpdir(), 'pl-check-run-'));
  const { result } = await runPrompt(
    { file: path.join(work, 'a.prompt'), text: `---\nmodel: ${dir}\nsteps: 2\n---\na red [circle]\n`, builtinModelsDir: MODELS, provider: 'cpu', runsDir: path.join(work, 'runs') },
    new PipelineCache(),
  );
  assert.equal(result.settings.steps, 2);
});

test('a UNet weight stored outside the graph\'s folder: onnxruntime would refuse it', async () => {
  const dir = tinyShapesCopy();
  const unetFile = path.join(dir, 'unet', 'model.onnx');
  const model = decodeModel(readFileSync(unetFile));
  // A weight that is no cross-attention key (those are read by the instrumenter itself): the largest other one.
  const tensor = (model.graph?.initializer ?? [])
    .filter((t) => !/to_k/.test(t.name ?? '') && (t.rawData?.length ?? 0) > 0)
    .sort((a, b) => (b.rawData?.length ?? 0) - (a.rawData?.length ?? 0))[0];
  const bytes = tensor.rawData!;
  writeFileSync(path.join(dir, 'outside.bin'), bytes);
  tensor.rawData = new Uint8Array(0);
  tensor.dataLocation = EXTERNAL;
  tensor.externalData = [{ key: 'location', value: '../outside.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: String(bytes.length) }];
  writeFileSync(unetFile, encodeModel(model));
  const { ok, out } = await lines(dir);
  assert.equal(ok, false);
  const failed = failures(out);
  assert.equal(failed.length, 1, out.join('\n'));
  assert.match(failed[0], new RegExp(`^UNet inputs: .*unet/model\\.onnx: the weights of "${tensor.name}" are stored in "\\.\\./outside\\.bin", outside the graph's folder, which onnxruntime refuses to read`));
});

test('a vocabulary far over CLIP\'s size is refused at once, with its size and the limit', async () => {
  const dir = tinyShapesCopy();
  const vocabFile = path.join(dir, 'tokenizer', 'vocab.json');
  truncateSync(vocabFile, TOKENIZER_FILE_LIMIT + 1024 * 1024); // sparse: no 17 MiB written
  const started = performance.now();
  const { ok, out } = await lines(dir);
  assert.equal(ok, false);
  assert.ok(performance.now() - started < 10_000, 'no parse of the whole file');
  assert.deepEqual(failures(out).map((l) => l.split(':')[0]), ['tokenizer']);
  assert.match(out.join('\n'), /vocab\.json is 17\.0 MiB; Prompt Lens reads tokenizer files up to 16\.0 MiB/);
});
