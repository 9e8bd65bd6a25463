import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { AttentionCapture } from '../../src/engine/pipeline/pipeline';
import { AttentionAnalysis, type AnalysisInput } from '../../src/engine/run/attentionAnalysis';
import { fakeTokenized } from '../fakes/tokenized';
import { fakeRunResult } from '../fakes/runResult';

const ENGINE = path.resolve(__dirname, '../../src/engine');

/**
 * The compiled engine module `module` (a path under src/engine) copied into a folder of its own, beside a worker
 * script that exits on its first message; its relative imports `imports` are answered by the real modules. So the
 * module runs as shipped, with a thread that dies, and no test hook in it.
 */
async function withDyingThread<T>(module: string, worker: string, imports: string[]): Promise<T> {
  const root = mkdtempSync(path.join(tmpdir(), 'pl-dead-thread-'));
  const place = (rel: string): string => {
    const file = path.join(root, `${rel}.js`);
    mkdirSync(path.dirname(file), { recursive: true });
    return file;
  };
  copyFileSync(path.join(ENGINE, `${module}.js`), place(module));
  for (const rel of imports) writeFileSync(place(rel), `module.exports = require(${JSON.stringify(path.join(ENGINE, rel))});\n`);
  writeFileSync(place(worker), "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
  return (await import(place(module))) as T;
}

// "red circle": start, red, circle, end, padding; one layer, one head.
const input: AnalysisInput = {
  prompt: 'red circle',
  objects: [{ word: 'circle', start: 4, end: 10 }],
  tokenized: fakeTokenized([['red', 0, 3], ['circle', 4, 10]], 5),
  steps: 2,
  sampleH: 2,
  sampleW: 2,
};

function capture(step: number): AttentionCapture[] {
  const probs = Float32Array.from({ length: 4 * 5 }, (_, i) => 0.05 + 0.1 * Math.abs(Math.sin(i + step)));
  return [{ layer: 'up.attn2', step, timestep: 900 - 400 * step, gridH: 2, gridW: 2, heads: 1, tokens: 5, probs }];
}

test('an analysis thread that dies fails its batch with a message, and later batches are analysed on this thread', async () => {
  const thread = await withDyingThread<typeof import('../../src/engine/run/analysisThread')>('run/analysisThread', 'run/analysisWorker', ['run/attentionAnalysis']);
  const lost = thread.startBatchAnalysis([input]);
  const error = await lost.finish().catch((e: unknown) => e);
  assert.ok(error instanceof Error);
  assert.match(error.message, /the attention analysis thread stopped \(exit code 3\); run again/);
  assert.throws(() => lost.onAttention(0, capture(0)), /thread stopped/, 'the sampling loop stops at its next step');

  const next = thread.startBatchAnalysis([input]);
  const here = new AttentionAnalysis(input);
  for (const step of [0, 1]) {
    next.onAttention(0, capture(step));
    here.onAttention(capture(step));
  }
  assert.deepEqual(await next.finish(), [here.finish()]);
});

test('a record thread that dies leaves its records to be written on this thread, and the later ones too', async () => {
  const saveRun = await withDyingThread<typeof import('../../src/engine/run/saveRun')>('run/saveRun', 'run/recordWorker', [
    'files/errors',
    'files/stagedFolder',
    'record/writeRun',
    'report/htmlReport',
  ]);
  const runsDir = mkdtempSync(path.join(tmpdir(), 'pl-dead-record-thread-'));
  const now = new Date('2026-12-03T12:00:00Z');
  const result = fakeRunResult('a red circle and a blue square');
  const [first, second] = await Promise.all([saveRun.writeRunRecord(result, runsDir, { now, place: 0 }), saveRun.writeRunRecord(result, runsDir, { now, place: 1 })]);
  const third = await saveRun.writeRunRecord(result, runsDir, { now, place: 2 });
  for (const written of [first, second, third]) {
    assert.ok(existsSync(path.join(written.folder, 'run.json')), written.folder);
    assert.ok(existsSync(written.report), written.report);
  }
  assert.deepEqual([first, second, third].map((w) => path.basename(w.folder)), ['', '-2', '-3'].map((s) => `${path.basename(first.folder)}${s}`));
});
