import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeRunFolder } from '../../src/engine/record/writeRun';
import { writeHtmlReport } from '../../src/engine/report/htmlReport';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import { fakeRunResult } from '../fakes/runResult';

/** Every file under `dir`, relative path → bytes. */
async function filesIn(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, file), await fs.readFile(file));
  }
  return out;
}

test('the record thread is built beside saveRun, so these tests write through it', () => {
  assert.ok(existsSync(path.resolve(__dirname, '../../src/engine/run/recordWorker.js')));
});

test('a record written on the record thread is the one the main thread writes, file for file', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pl-record-thread-'));
  const now = new Date('2026-12-03T10:00:00Z');
  const result = fakeRunResult('a red circle and a blue square');
  const [offThread, here] = await Promise.all([writeRunRecord(result, path.join(root, 'a'), { now }), writeRunFolder(result, path.join(root, 'b'), writeHtmlReport, now)]);
  assert.equal(offThread.id, here.id);
  assert.deepEqual(offThread.record, here.record);
  const [a, b] = await Promise.all([filesIn(offThread.folder), filesIn(here.folder)]);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  assert.ok(a.size >= 10, `${a.size} files`);
  for (const [name, bytes] of a) {
    // The report names its folder.
    const other = b.get(name) as Buffer;
    if (name.endsWith('.html')) assert.equal(bytes.toString().replaceAll(offThread.folder, '#'), other.toString().replaceAll(here.folder, '#'), name);
    else assert.ok(bytes.equals(other), name);
  }
});

test('records of one batch written together, on two threads, are named in their batch order', async () => {
  const runs = path.join(mkdtempSync(path.join(tmpdir(), 'pl-record-thread-')), 'runs');
  const now = new Date('2026-12-03T10:00:00Z');
  // The first record is the largest, so it finishes last.
  const results = [0, 1, 2, 3].map((shift) => fakeRunResult(shift === 0 ? 'a red circle and a blue square and a red circle and a blue square' : 'a red circle and a blue square', shift));
  const written = await Promise.all(results.map((result, place) => writeRunRecord({ ...result, prompt: 'a red circle and a blue square' }, runs, { now, place, idle: true })));
  const base = written[0].id;
  assert.deepEqual(written.map((w) => w.id), [base, `${base}-2`, `${base}-3`, `${base}-4`]);
  assert.deepEqual((await fs.readdir(runs)).filter((n) => !n.startsWith('.')).sort(), written.map((w) => w.id).sort());
});

test('a write error on the record thread reaches the caller with its code', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pl-record-thread-'));
  const file = path.join(root, 'not-a-folder');
  writeFileSync(file, 'x');
  await assert.rejects(writeRunRecord(fakeRunResult('a red circle and a blue square'), path.join(file, 'runs')), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'ENOTDIR');
    assert.match(error.message, /not-a-folder/);
    return true;
  });
});

test('a result the record thread cannot be sent is written on this thread', async () => {
  const runs = path.join(mkdtempSync(path.join(tmpdir(), 'pl-record-thread-')), 'runs');
  // A function does not survive the structured clone; JSON (run.json) drops it.
  const result = { ...fakeRunResult('a red circle and a blue square'), note: () => 'not cloneable' };
  const written = await writeRunRecord(result, runs);
  assert.ok(existsSync(path.join(written.folder, 'run.json')));
});
