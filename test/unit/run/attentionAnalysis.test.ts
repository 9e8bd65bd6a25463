import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttentionCapture } from '../../../src/engine/pipeline/pipeline';
import type { SelectionOptions } from '../../../src/engine/attention';
import { AttentionAnalysis } from '../../../src/engine/run/attentionAnalysis';
import type { TokenizedText } from '../../../src/engine/tokenizer';
import { fakeTokenized } from '../../fakes/tokenized';

// "red circle and square": start, red, circle, and, square, end over a 2x2 grid, one head, one layer.
const PROMPT = 'red circle and square';
const tokenized = fakeTokenized([['red', 0, 3], ['circle', 4, 10], ['and', 11, 14], ['square', 15, 21]]);

/** Token t's probability at cell q: circle lives top-left, square bottom-right, the rest is spread evenly. */
function capture(step: number): AttentionCapture {
  const probs = new Float32Array(4 * 6);
  for (let q = 0; q < 4; q++) {
    const row = [0.4, 0.1, q === 0 ? 0.4 : 0.05, 0.05, q === 3 ? 0.4 : 0.05, 0];
    row[5] = 1 - row.slice(0, 5).reduce((a, b) => a + b, 0);
    probs.set(row, q * 6);
  }
  return { layer: 'up.attn2', step, timestep: 900 - 100 * step, gridH: 2, gridW: 2, heads: 1, tokens: 6, probs };
}

describe('attention analysis of a run', () => {
  test('words, objects, specials, scores, masks and the layer catalogue', () => {
    const analysis = new AttentionAnalysis({
      prompt: PROMPT,
      objects: [
        { word: 'circle', start: 4, end: 10 },
        { word: 'square', start: 15, end: 21 },
      ],
      tokenized,
      steps: 2,
      sampleH: 2,
      sampleW: 2,
    });
    analysis.onAttention([capture(0)]);
    analysis.onAttention([capture(1)]);
    const out = analysis.finish();
    assert.deepEqual(out.words.map((w) => w.word), ['red', 'circle', 'and', 'square', '<start>', '<end>']);
    assert.deepEqual(out.words.filter((w) => w.isObject).map((w) => w.word), ['circle', 'square']);
    assert.deepEqual(out.words.find((w) => w.word === '<end>')?.tokenIndices, [5]);
    assert.deepEqual(out.layers, [{ name: 'up.attn2', gridH: 2, gridW: 2, heads: 1 }]);
    // DAAM sums the two steps: circle's map is 0.8 at its cell and 0.1 elsewhere.
    const circle = out.words.find((w) => w.word === 'circle')?.map ?? new Float32Array();
    assert.ok(Math.abs(circle[0] - 0.8) < 1e-6 && Math.abs(circle[3] - 0.1) < 1e-6);
    const s = out.scores;
    assert.ok(s);
    // Overlap at one step: prod/sum peaks where one map is 0.4 and the other 0.05: 0.02 / 0.45.
    assert.ok(Math.abs(s.overlap - 0.02 / 0.45) < 1e-6, `overlap ${s.overlap}`);
    assert.deepEqual(s.activations.map((a) => a.word), ['circle', 'square']);
    assert.equal(s.masks.length, 2 * 4);
    assert.deepEqual([...s.masks], [1, 0, 0, 0, 0, 0, 0, 1], 'each object masks its own cell');
    assert.equal(s.pairs[0].iou, 0);
    assert.match(s.basis, /step 2 of 2/);
    assert.equal(out.timeline?.timesteps.length, 2);
  });

  test('marks sharing a word are separate objects, numbered, each with its own map and scores', () => {
    // "red circle and blue circle": start, red, circle, and, blue, circle, end; the first circle attends to the
    // top-left cell, the second to the bottom-right one.
    const prompt = 'red circle and blue circle';
    const words = [['red', 0, 3], ['circle', 4, 10], ['and', 11, 14], ['blue', 15, 19], ['circle', 20, 26]] as const;
    const twoCircles = {
      ids: Int32Array.from([10, 1, 2, 3, 5, 2, 11]),
      length: 7,
      truncated: false,
      tokens: [
        { id: 10, text: '<|startoftext|>', wordIndex: -1, start: 0, end: 0 },
        ...words.map(([w, start, end], i) => ({ id: i + 1, text: `${w}</w>`, wordIndex: i, start, end })),
        { id: 11, text: '<|endoftext|>', wordIndex: -1, start: 26, end: 26 },
      ],
    } as unknown as TokenizedText;
    const probs = new Float32Array(4 * 7);
    for (let q = 0; q < 4; q++) probs.set([0.3, 0.1, q === 0 ? 0.4 : 0.05, 0.05, 0.05, q === 3 ? 0.4 : 0.05, 0], q * 7);
    for (let q = 0; q < 4; q++) probs[q * 7 + 6] = 1 - probs.slice(q * 7, q * 7 + 6).reduce((a, b) => a + b, 0);
    const analysis = new AttentionAnalysis({
      prompt,
      objects: [
        { word: 'circle', start: 4, end: 10 },
        { word: 'Circle', start: 20, end: 26 },
      ],
      tokenized: twoCircles,
      steps: 1,
      sampleH: 2,
      sampleW: 2,
    });
    analysis.onAttention([{ layer: 'up.attn2', step: 0, timestep: 500, gridH: 2, gridW: 2, heads: 1, tokens: 7, probs }]);
    const out = analysis.finish();
    assert.deepEqual(out.words.map((w) => w.word), ['red', 'circle', 'and', 'blue', 'circle #1', 'circle #2', '<start>', '<end>']);
    assert.deepEqual(out.words.filter((w) => w.isObject).map((w) => [w.word, w.tokenIndices]), [['circle #1', [2]], ['circle #2', [5]]]);
    assert.deepEqual(out.words.find((w) => w.word === 'circle')?.tokenIndices, [2, 5], 'the word keeps every occurrence');
    assert.deepEqual([...(out.words.find((w) => w.word === 'circle #2')?.map ?? [])].map((v) => Math.round(v * 100) / 100), [0.05, 0.05, 0.05, 0.4]);
    const s = out.scores;
    assert.ok(s);
    assert.deepEqual(s.activations.map((a) => a.word), ['circle #1', 'circle #2']);
    assert.deepEqual(s.pairs.map((p) => [p.a, p.b, p.iou]), [['circle #1', 'circle #2', 0]]);
    assert.deepEqual([...s.masks], [1, 0, 0, 0, 0, 0, 0, 1], 'each circle masks its own cell');
    assert.ok(Math.abs(s.overlap - 0.02 / 0.45) < 1e-6, `overlap ${s.overlap}`);
  });

  test('other layers, heads or steps from the kept attention: the maps sampling again with that selection gives', () => {
    // Two layers on two grids, two heads, three steps of varied maps.
    const layers = [
      { layer: 'down.attn2', gridH: 2, gridW: 2 },
      { layer: 'up.attn2', gridH: 1, gridW: 1 },
    ];
    const steps = [0, 1, 2].map((step) =>
      layers.map(({ layer, gridH, gridW }, l) => {
        const probs = new Float32Array(2 * gridH * gridW * 6);
        for (let i = 0; i < probs.length; i++) probs[i] = 0.05 + 0.1 * Math.abs(Math.sin(1.3 * i + 0.7 * step + 2.1 * l));
        return { layer, step, timestep: 900 - 300 * step, gridH, gridW, heads: 2, tokens: 6, probs };
      }),
    );
    const analyse = (selection?: SelectionOptions) => {
      const analysis = new AttentionAnalysis({ prompt: PROMPT, objects: [{ word: 'circle', start: 4, end: 10 }, { word: 'square', start: 15, end: 21 }], tokenized, steps: 3, sampleH: 4, sampleW: 4, ...(selection ? { selection } : {}) });
      for (const captures of steps) analysis.onAttention(captures);
      return analysis;
    };
    const stored = analyse();
    assert.equal(stored.finish().mapFilter, undefined, 'every layer, head and step: not a filtered view');
    assert.equal(analyse({ grids: ['2x2'], heads: [0], steps: { from: 1, to: 2 } }).finish().mapFilter, '2x2 layers, heads 0, steps 2–3');
    assert.equal(analyse({ heads: 'all', steps: 'all' }).finish().mapFilter, undefined, "'all' leaves nothing out");
    for (const selection of [{ heads: [1] }, { layers: ['up.attn2'] }, { grids: ['2x2'], heads: [0] }, { steps: { from: 0, to: 2 } }] as SelectionOptions[]) {
      assert.equal(stored.canRefilter(selection), true, JSON.stringify(selection));
      const again = stored.refilter(selection);
      const sampled = analyse(selection).finish();
      assert.equal(again.mapRecipe, sampled.mapRecipe);
      assert.deepEqual(again.words.map((w) => w.word), sampled.words.map((w) => w.word));
      for (const [i, w] of again.words.entries()) {
        for (let j = 0; j < w.map.length; j++) assert.ok(Math.abs(w.map[j] - sampled.words[i].map[j]) < 1e-6, `${JSON.stringify(selection)} ${w.word}[${j}]`);
      }
    }
    // Per-step maps fit here: a part of the steps is aggregated too; beyond the budget only step sums are kept.
    for (const selection of [{ steps: { from: 1, to: 2 } }, { steps: 1, heads: [0] }] as SelectionOptions[]) {
      const again = stored.refilter(selection);
      const sampled = analyse(selection).finish();
      assert.equal(again.mapRecipe, sampled.mapRecipe);
      for (const [i, w] of again.words.entries()) {
        for (let j = 0; j < w.map.length; j++) assert.ok(Math.abs(w.map[j] - sampled.words[i].map[j]) < 1e-6, `${JSON.stringify(selection)} ${w.word}[${j}]`);
      }
    }
  });
});
