import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { AttentionCapture } from '../../src/engine/pipeline/pipeline';
import { packCaptures, startBatchAnalysis, unpackCaptures } from '../../src/engine/run/analysisThread';
import { AttentionAnalysis, SelectionError, type AnalysisInput } from '../../src/engine/run/attentionAnalysis';
import { fakeTokenized } from '../fakes/tokenized';

// "red circle and square": start, red, circle, and, square, end, padding; two layers on two grids, two heads.
const tokenized = fakeTokenized([['red', 0, 3], ['circle', 4, 10], ['and', 11, 14], ['square', 15, 21]], 8);

const STEPS = 4;
const input: AnalysisInput = {
  prompt: 'red circle and square',
  objects: [
    { word: 'circle', start: 4, end: 10 },
    { word: 'square', start: 15, end: 21 },
  ],
  tokenized,
  steps: STEPS,
  sampleH: 4,
  sampleW: 4,
  storeAttention: true,
};

/** One step's captures of item `item`: varied positive maps, different per item, layer, head and step. */
function captures(item: number, step: number): AttentionCapture[] {
  return [
    { layer: 'down.attn2', gridH: 4, gridW: 4 },
    { layer: 'up.attn2', gridH: 2, gridW: 2 },
  ].map(({ layer, gridH, gridW }, l) => {
    const probs = new Float32Array(2 * gridH * gridW * 8);
    for (let i = 0; i < probs.length; i++) probs[i] = 0.02 + 0.2 * Math.abs(Math.sin(1.3 * i + 0.7 * step + 2.1 * l + 0.9 * item));
    return { layer, step, timestep: 900 - 200 * step, gridH, gridW, heads: 2, tokens: 8, probs };
  });
}

test('the analysis thread is built beside analysisThread, so these tests analyse on it', () => {
  assert.ok(existsSync(path.resolve(__dirname, '../../src/engine/run/analysisWorker.js')));
});

test('packed captures unpack to the same shapes and probabilities', () => {
  const original = captures(1, 2);
  const { shapes, probs } = packCaptures(original);
  assert.equal(probs.length, original.reduce((n, c) => n + c.probs.length, 0));
  assert.deepEqual(unpackCaptures(shapes, probs), original);
});

test("a batch analysed on the thread gives each item what the main thread's analysis gives it", async () => {
  const batch = startBatchAnalysis([input, input]);
  const here = [new AttentionAnalysis(input), new AttentionAnalysis(input)];
  for (let step = 0; step < STEPS; step++) {
    for (const item of [0, 1]) {
      batch.onAttention(item, captures(item, step));
      here[item].onAttention(captures(item, step));
    }
  }
  const [offThread, expected] = [await batch.finish(), here.map((a) => a.finish())];
  assert.equal(offThread.length, 2);
  assert.deepEqual(offThread, expected);
  assert.notDeepEqual(offThread[0].words[1].map, offThread[1].words[1].map, 'the items were kept apart');
});

test('an analysis error reaches the sampling loop with its class, and the thread takes the next batch', async () => {
  const failing = startBatchAnalysis([{ ...input, selection: { layers: ['mid.attn2'] } }]);
  failing.onAttention(0, captures(0, 0));
  const error = await failing.finish().catch((e: unknown) => e);
  assert.ok(error instanceof SelectionError, String(error));
  assert.match(error.message, /mid\.attn2/);
  assert.throws(() => failing.onAttention(0, captures(0, 1)), SelectionError, 'later steps stop the loop');
  failing.discard();

  const next = startBatchAnalysis([input]);
  for (let step = 0; step < STEPS; step++) next.onAttention(0, captures(0, step));
  const [output] = await next.finish();
  assert.deepEqual(output.words.map((w) => w.word), ['red', 'circle', 'and', 'square', '<start>', '<end>']);
});

test('a discarded batch (a cancelled run) leaves the thread free for the next one', async () => {
  const cancelled = startBatchAnalysis([input]);
  cancelled.onAttention(0, captures(0, 0));
  cancelled.discard();
  const next = startBatchAnalysis([input]);
  for (let step = 0; step < STEPS; step++) next.onAttention(0, captures(0, step));
  assert.equal((await next.finish()).length, 1);
});

test('inputs the structured clone refuses are analysed on this thread, with the same result', async () => {
  const uncloneable = { ...input, note: () => 'a function cannot cross threads' } as AnalysisInput;
  const batch = startBatchAnalysis([uncloneable]);
  const here = new AttentionAnalysis(input);
  for (let step = 0; step < STEPS; step++) {
    batch.onAttention(0, captures(0, step));
    here.onAttention(captures(0, step));
  }
  assert.deepEqual(await batch.finish(), [here.finish()]);
});
