// Case 3 and the shared reader: a key set with NaN or infinite weights used to be accepted and give a
// complete-looking compare record with a black "after" image, whose reopening broke the results view
// (`Cannot read properties of null (reading 'toFixed')`). Records read back are now checked field by field.
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { encodeKeySet, KeySetError } from '../../src/engine/finetune/keySet';
import { findKeySets } from '../../src/engine/history';
import { loadOriginalKeys } from '../../src/engine/onnx/instrument';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { comparePrompt } from '../../src/engine/run/comparePrompt';
import { readRecord, RECORD_LIMITS, RecordError } from '../../src/engine/record/check';
import { runRecordFields } from '../../src/engine/record/schema';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import { loadCompareView, loadRunView } from '../../src/results/runView';
import { fakeRunResult } from '../fakes/runResult';
import { MODELS, tempDir } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a record edited by hand, any field
type EditableJson = Record<string, any>;

const PROMPT = `---\nmodel: tiny-shapes\nseed: 3\nsteps: 2\n---\na red [circle] and a blue [square]\n`;

describe('key sets with non-finite weights', () => {
  const pipelines = new PipelineCache();

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`${bad} in a key weight: Compare refuses the key set, naming the file and the key; nothing is written`, async () => {
      const work = tempDir('nan-keys');
      const pipeline = await pipelines.get(path.join(MODELS, 'tiny-shapes'), 'cpu');
      const { layers } = pipeline.instrumented;
      const keys = await loadOriginalKeys(pipeline.instrumented);
      keys.get(layers[0].name)![5] = bad;
      const keySetFile = path.join(work, 'keys.safetensors');
      const info = { baseModelId: pipeline.model.id, baseModelHash: pipeline.model.hash, prompts: ['a [x] and a [y]'], trainedLayers: [layers[0].name], steps: 1, lr: 1e-4, curve: [] };
      writeFileSync(keySetFile, encodeKeySet(keys, layers, info));
      const runsDir = path.join(work, 'runs');
      await assert.rejects(
        comparePrompt({ file: path.join(work, 'a.prompt'), text: PROMPT, line: 5, keySetFile, runsDir, builtinModelsDir: MODELS, provider: 'cpu' }, pipelines),
        (e: Error) => e instanceof KeySetError && e.message.startsWith(`${keySetFile}: ${layers[0].name}.to_k.weight has ${bad} at index`),
      );
      assert.deepEqual(readdirSync(runsDir).filter((n) => !n.startsWith('.')), []);
    });
  }
});

describe('records read back from disk', () => {
  async function compareFolder(): Promise<{ folder: string; afterJson: string }> {
    const folder = path.join(tempDir('compare'), '20261202-compare-x');
    const before = await writeRunRecord(fakeRunResult('a red circle and a blue square'), path.join(folder, 'before'));
    const afterRun = await writeRunRecord(fakeRunResult('a red circle and a blue square', 3), path.join(folder, 'after'));
    await fs.writeFile(path.join(folder, 'compare.json'), JSON.stringify({ prompt: 'p', before: path.relative(folder, before.folder), after: path.relative(folder, afterRun.folder) }));
    return { folder, afterJson: path.join(afterRun.folder, 'run.json') };
  }

  async function edit(file: string, change: (json: EditableJson) => void): Promise<void> {
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    change(json);
    await fs.writeFile(file, JSON.stringify(json));
  }

  test('a null score (what NaN becomes in JSON) is an error naming the file and the field, not a TypeError in the view', async () => {
    const { folder, afterJson } = await compareFolder();
    await edit(afterJson, (j) => (j.scores.overlap = null));
    await assert.rejects(loadCompareView(folder), (e: Error) => e instanceof RecordError && e.message === `${afterJson}: "scores.overlap" must be a finite number, got null`);
  });

  test('mistyped fields are errors with their path: a word, a token index, a layer grid, a detection status', async () => {
    const cases: [(j: EditableJson) => void, string][] = [
      [(j) => (j.words[1].word = 7), '"words[1].word" must be a text of at most 10000 characters, got 7'],
      [(j) => (j.words[0].tokenIndices = ['x']), '"words[0].tokenIndices[0]" must be a whole number >= 0, got "x"'],
      [(j) => (j.layers = [{ name: 'l', gridH: 1e9, gridW: 2, heads: 1 }]), '"layers[0].gridH" must be a whole number >= 1 <= 65536, got 1000000000'],
      [(j) => (j.detection = { success: true, objects: [{ object: 'x', status: 'lost' }], detected: [], extra: [] }), '"detection.objects[0].status" must be one of found, wrong-colour, wrong-shape, missing, got "lost"'],
      [(j) => (j.files.image = '../../../etc/passwd'), '"files.image" must be a relative path not leading outside the record\'s folder, got "../../../etc/passwd"'],
    ];
    for (const [change, message] of cases) {
      const written = await writeRunRecord(fakeRunResult('a red circle and a blue square'), tempDir('record'));
      const file = path.join(written.folder, 'run.json');
      await edit(file, change);
      await assert.rejects(loadRunView(written.folder), (e: Error) => e instanceof RecordError && e.message === `${file}: ${message}`);
    }
  });

  test('maps that do not match the record\'s words and grid are refused before the view gets them', async () => {
    const written = await writeRunRecord(fakeRunResult('a red circle and a blue square'), tempDir('record'));
    await edit(path.join(written.folder, 'run.json'), (j) => (j.maps.height = 40));
    await assert.rejects(loadRunView(written.folder), /word_maps holds \d+ values, but .*run\.json lists 7 words on a 40x4 grid/);
  });

  test('a record larger than the limit is refused unread; broken JSON names the file', async () => {
    const dir = tempDir('big');
    const file = path.join(dir, 'run.json');
    await fs.writeFile(file, Buffer.alloc(RECORD_LIMITS.fileBytes + 1, 0x20));
    await assert.rejects(readRecord(file, runRecordFields), (e: Error) => e instanceof RecordError && e.message.includes(`is ${RECORD_LIMITS.fileBytes + 1} bytes, more than a record may be`));
    await fs.writeFile(file, '{"prompt": ');
    await assert.rejects(readRecord(file, runRecordFields), new RegExp(`^RecordError: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: is not valid JSON`));
  });

  test('a finetune folder whose keys file is a symlink out of it is not listed as a key set', async () => {
    const runs = tempDir('keysets');
    const folder = path.join(runs, '20261202-finetune-x');
    await fs.mkdir(folder);
    const record = { model: { id: 'm', hash: 'h' }, options: { lr: 1e-4 }, keys: 'keys.safetensors', trainedPrompts: ['p'], curve: [{ loss: 1 }], comparisons: [] };
    await fs.writeFile(path.join(folder, 'finetune.json'), JSON.stringify(record));
    await fs.writeFile(path.join(folder, 'keys.safetensors'), 'x');
    assert.equal((await findKeySets(runs)).length, 1);
    const outside = path.join(tempDir('outside'), 'keys.safetensors');
    await fs.rename(path.join(folder, 'keys.safetensors'), outside);
    await fs.symlink(outside, path.join(folder, 'keys.safetensors'));
    assert.deepEqual(await findKeySets(runs), []);
  });
});
