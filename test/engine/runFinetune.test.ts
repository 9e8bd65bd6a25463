// The finetune's before/after evaluation samples its prompts and seeds in batches: what it writes for each is
// what sampling that prompt and seed alone (base keys, then the finetuned keys it wrote) writes.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { loadKeySet } from '../../src/engine/finetune/keySet';
import { loadOriginalKeys } from '../../src/engine/onnx/instrument';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { KEYS_FILE } from '../../src/engine/record/files';
import { runFinetune } from '../../src/engine/run/runFinetune';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import { openPromptFile, sampleRun } from '../../src/engine/run/sampleRun';
import { runFolderDiff } from './runFolderDiff';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');
const TEXT = `---
model: tiny-shapes
seed: [3, 5]
steps: 4
guidance: 2
---
red [circle] and blue [square]
a green [triangle]
`;

const work = mkdtempSync(path.join(tmpdir(), 'prompt-lens-finetune-'));
after(() => fs.rm(work, { recursive: true, force: true }));

test("before/after: every prompt and seed of a side in one batch, each written as it is sampled alone", async () => {
  const pipelines = new PipelineCache();
  const source = { file: path.join(work, 'pair.prompt'), text: TEXT, builtinModelsDir: MODELS, provider: 'cpu' as const };
  const heard: string[] = [];
  const done = await runFinetune({ ...source, runsDir: path.join(work, 'runs'), overrides: { finetuneSteps: 2 } }, pipelines, {
    onSamples: (first, total, side, samples) => heard.push(`${first}/${total} ${side}: ${samples.map((s) => `${s.group} ${s.seed}`).join(', ')}`),
  });
  // Two prompts (one trained, one single object) times two seeds: one batch per side.
  assert.deepEqual(heard, ['0/8 before: trained 3, trained 5, single-object 3, single-object 5', '4/8 after: trained 3, trained 5, single-object 3, single-object 5']);
  const { comparisons } = done.result;
  assert.deepEqual(comparisons.map((c) => [c.group, c.seed, c.before.timings.batchSize, c.after.timings.batchSize]), [
    ['trained', 3, 4, 4],
    ['trained', 5, 4, 4],
    ['single-object', 3, 4, 4],
    ['single-object', 5, 4, 4],
  ]);

  const opened = await openPromptFile(source, pipelines);
  const base = await loadOriginalKeys(opened.pipeline.instrumented);
  const { keys } = await loadKeySet(path.join(done.folder, KEYS_FILE), base, opened.pipeline.instrumented.layers, opened.pipeline.model);
  for (const c of [comparisons[1], comparisons[2]]) {
    const line = opened.parsed.prompts.find((p) => p.text === c.prompt);
    assert.ok(line);
    const settings = { ...opened.settings, seed: c.seed };
    for (const [side, folder, overlay] of [['before', c.beforeFolder, undefined], ['after', c.afterFolder, keys]] as const) {
      const alone = await writeRunRecord(await sampleRun(opened, line, settings, source.file, {}, overlay), path.join(work, 'alone'));
      assert.equal(runFolderDiff(path.join(done.folder, folder), alone.folder), undefined, `${c.group} seed ${c.seed}, ${side}`);
    }
  }
  assert.notDeepEqual(comparisons[0].before.image.data, comparisons[1].before.image.data, 'the seeds differ');
});
