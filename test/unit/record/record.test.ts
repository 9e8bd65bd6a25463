import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { finetuneJson, type FinetuneRunResult } from '../../../src/engine/finetune/finetuneResult';
import { defaultFinetuneOptions } from '../../../src/engine/finetune/trainer';
import { decodePng } from '../../../src/engine/history';
import { validate } from '../../../src/engine/record/check';
import { FINETUNE_JSON, KEYS_FILE, REPORT_FILE, RUN_JSON } from '../../../src/engine/record/files';
import { readFinetuneRecord, readRunFolder, readRunRecord } from '../../../src/engine/record/read';
import { finetuneRecordFields, runRecordFields, type RunJson, type RunRecord } from '../../../src/engine/record/schema';
import { writeRunFolder } from '../../../src/engine/record/writeRun';
import { fakeRunResult } from '../../fakes/runResult';

const tempDir = (name: string): string => mkdtempSync(path.join(tmpdir(), `record-${name}-`));

/** A record's type with every list readonly (the engine's score recipes are), to hold a written record to the read one's shape. */
type Readable<T> = T extends (infer U)[] ? readonly Readable<U>[] : T extends object ? { readonly [K in keyof T]: Readable<T[K]> } : T;

describe('run record round trip', () => {
  test('the record written is the record on disk, and reads back as itself', async () => {
    const result = fakeRunResult('a red circle and a blue square');
    const reported: RunJson[] = [];
    const written = await writeRunFolder(result, tempDir('run'), async (_result, record, dir) => {
      reported.push(record);
      await fs.writeFile(path.join(dir, REPORT_FILE), 'report');
    });
    // The report gets the same in-memory record, before the folder is renamed into place.
    assert.deepEqual(reported, [written.record]);
    assert.equal(written.report, path.join(written.folder, REPORT_FILE));
    const onDisk: unknown = JSON.parse(await fs.readFile(path.join(written.folder, RUN_JSON), 'utf8'));
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(written.record)));
    // What is written satisfies what is read (a compile-time check), and reading keeps every checked field.
    const asRead: Readable<RunRecord> = written.record;
    assert.deepEqual(await readRunRecord(written.folder), validate(JSON.parse(JSON.stringify(asRead)), runRecordFields, RUN_JSON));
    const read = await readRunRecord(written.folder);
    assert.equal(read.id, written.id);
    assert.deepEqual(read.files, written.record.files);
    assert.deepEqual(read.words, written.record.words);
  });

  test('a run folder loads back with the pixels and maps it was written from', async () => {
    const result = fakeRunResult('a red circle and a blue square', 2);
    const written = await writeRunFolder(result, tempDir('folder'), async () => undefined);
    const run = await readRunFolder(written.folder);
    assert.equal(run.record.prompt, result.prompt);
    assert.deepEqual(decodePng(run.imagePng), result.image);
    assert.equal(run.mapHeight, result.mapHeight);
    assert.equal(run.mapWidth, result.mapWidth);
    assert.deepEqual([...run.wordMaps], result.words.flatMap((w) => [...w.map]));
    assert.deepEqual(run.overlapMap, result.scores?.overlapMap);
    assert.deepEqual(run.masks, result.scores?.masks);
    assert.deepEqual(run.timeline && { ...run.timeline, data: [...run.timeline.data] }, {
      steps: 3,
      height: 2,
      width: 2,
      data: [...(result.timeline?.data ?? [])],
    });
  });

  test('finetune.json as written reads back as a finetune record', async () => {
    const before = fakeRunResult('a red circle and a blue square');
    const after = fakeRunResult('a red circle and a blue square', 1);
    const finetune: FinetuneRunResult = {
      options: defaultFinetuneOptions,
      optionSources: { lr: 'engine', steps: 'engine', normWeight: 'engine' },
      trainedPrompts: [before.prompt],
      trainedLayers: ['up.attn2'],
      curve: [{ step: 1, loss: 0.5, separate: 0.3, enhance: 0.4, norm: 0, gradNorm: 1, ms: 1 }],
      trainMs: 10,
      comparisons: [],
    };
    const folder = tempDir('finetune');
    const files = { image: 'image.png', imageLarge: 'image-large.png', maps: [] };
    finetune.comparisons.push({ group: 'trained', prompt: before.prompt, seed: 5, before, after, beforeFolder: 'before/x', afterFolder: 'after/x', beforeFiles: files, afterFiles: files });
    const json = finetuneJson(finetune, { id: 'tiny-shapes', hash: 'h' }, KEYS_FILE);
    await fs.writeFile(path.join(folder, FINETUNE_JSON), JSON.stringify(json));
    const read = await readFinetuneRecord(folder);
    assert.deepEqual(read, validate(JSON.parse(JSON.stringify(json)), finetuneRecordFields, FINETUNE_JSON));
    assert.deepEqual(read.comparisons[0].before, { folder: 'before/x' });
    assert.equal(read.keys, KEYS_FILE);
  });
});
