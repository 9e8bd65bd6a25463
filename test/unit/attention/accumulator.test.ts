import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionAccumulator } from '../../../src/engine/attention/accumulator';
import { resolveSelection } from '../../../src/engine/attention/selection';
import type { LayerInfo } from '../../../src/engine/attention/types';
import { close, closeAll, probsOf } from './helpers';

const A: LayerInfo = { name: 'down_blocks.0.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 2 };
const B: LayerInfo = { name: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 2 };
const C: LayerInfo = { name: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 1, gridW: 1, heads: 2 };
const MODEL = [A, B, C];

// Per (layer, step, head) a constant; token 1 gets twice token 0.
const VALUES: Record<string, number[][]> = {
  [A.name]: [[0.2, 0.4], [0.1, 0.3]], // [step][head]
  [B.name]: [[0.6, 0.0], [0.2, 0.2]],
};

function feed(acc: AttentionAccumulator, steps = [0, 1]): void {
  for (const step of steps) {
    for (const layer of [A, B]) acc.add(probsOf(layer, step, 2, (h, _q, t) => VALUES[layer.name][step][h] * (t + 1)));
    acc.add(probsOf(C, step, 2, () => 100)); // the coarsest layer: dropped by default
  }
}

test('daam: sums over steps, averages over layers and heads, drops the coarsest grid', () => {
  const acc = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL) });
  assert.deepEqual(acc.layers.map((l) => l.name), [A.name, B.name]);
  feed(acc);
  const r = acc.result();
  assert.deepEqual([r.heads, r.tokens, r.height, r.width], [1, 2, 2, 2]);
  // Step sums per (layer, head): A 0.3, 0.7; B 0.8, 0.2 -> mean 0.5 (token 0), 1.0 (token 1).
  closeAll(r.data, [0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1]);
});

test('daam: a head list and a step range restrict the sums', () => {
  const selection = resolveSelection(MODEL, { heads: [1], steps: 1 });
  const acc = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection });
  feed(acc);
  // Step 1, head 1: A 0.3, B 0.2 -> 0.25.
  closeAll(acc.result().data, [0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5]);
});

test('daam: naming the grids keeps the coarsest; dropCoarsest can force either way', () => {
  const explicit = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL, { grids: [2, 1] }) });
  assert.equal(explicit.layers.length, 3);
  feed(explicit, [0]);
  // Step 0 only: A 0.2, 0.4; B 0.6, 0; C 100, 100 (1x1 upsampled stays constant) -> (1.2 + 200) / 6.
  close(explicit.result().data[0], 201.2 / 6, 1e-4);
  const forced = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL, { grids: [2, 1] }), recipe: { kind: 'daam', dropCoarsest: true } });
  assert.equal(forced.layers.length, 2);
  const kept = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL), recipe: { kind: 'daam', dropCoarsest: false } });
  assert.equal(kept.layers.length, 3);
  assert.throws(
    () => new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL, { grids: [1] }), recipe: { kind: 'daam', dropCoarsest: true } }),
    /leaves no layer/,
  );
});

test('daam: the clamp at 0 comes after the time sum by default, per step on request', () => {
  const L: LayerInfo = { name: 'l', gridH: 2, gridW: 2, heads: 1 };
  const run = (clamp: 'after-sum' | 'per-step'): Float32Array => {
    const acc = new AttentionAccumulator({ outH: 2, outW: 8, tokens: 1, selection: resolveSelection([L], { grids: [2] }), recipe: { kind: 'daam', clamp } });
    // Step 0: left column 1; step 1: right column 1. Their sum is constant.
    acc.add(probsOf(L, 0, 1, (_h, q) => (q % 2 === 0 ? 1 : 0)));
    acc.add(probsOf(L, 1, 1, (_h, q) => (q % 2 === 1 ? 1 : 0)));
    return acc.result().data;
  };
  closeAll(run('after-sum'), new Array(16).fill(1), 1e-6);
  // [1, 0] -> 8 wide: x = 7 undershoots to far(1.375) = -0.10986328125 and is clamped to 0,
  // while the mirrored step gives 1 - far(1.375) = 1.10986328125 there.
  const perStep = run('per-step');
  close(perStep[7], 1.10986328125, 1e-6);
  close(perStep[0], 1.10986328125, 1e-6);
});

test('daam: skips unselected steps and layers, rejects malformed input', () => {
  const acc = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 2, selection: resolveSelection(MODEL, { steps: 0 }) });
  assert.equal(acc.add(probsOf(A, 1, 2, () => 1)), false);
  assert.equal(acc.add(probsOf(C, 0, 2, () => 1)), false);
  assert.throws(() => acc.result(), /no attention was aggregated/);
  assert.throws(() => acc.add({ ...probsOf(A, 0, 2, () => 1), layer: 'nope' }), /unknown layer 'nope'/);
  assert.throws(() => acc.add({ ...probsOf(A, 0, 2, () => 1), gridH: 4 }), /grid 4x2/);
  assert.throws(() => acc.add(probsOf(A, 0, 3, () => 1)), /3 tokens, expected 2/);
  assert.throws(() => acc.add({ ...probsOf(A, 0, 2, () => 1), probs: new Float32Array(3) }), /probs has 3 values/);
  assert.throws(() => new AttentionAccumulator({ tokens: 2, selection: resolveSelection(MODEL) }), /needs outH and outW/);
});

test('daam: head-averaged maps count as one head, and refuse a head list', () => {
  const acc = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 1, selection: resolveSelection(MODEL, { grids: [2] }) });
  acc.add(probsOf(A, 0, 1, () => 0.4, 1));
  acc.add(probsOf(B, 0, 1, () => 0.2, 1));
  closeAll(acc.result().data, [0.3, 0.3, 0.3, 0.3]);
  const picky = new AttentionAccumulator({ outH: 2, outW: 2, tokens: 1, selection: resolveSelection(MODEL, { heads: [0] }) });
  assert.throws(() => picky.add(probsOf(A, 0, 1, () => 0.4, 1)), /head-averaged/);
});

test('separate-enhance: one step, layers of one grid averaged, heads kept on request', () => {
  const selection = resolveSelection(MODEL, { steps: 1 });
  const acc = new AttentionAccumulator({ tokens: 2, selection, recipe: { kind: 'separate-enhance', grid: '2x2', keepHeads: true } });
  assert.deepEqual(acc.layers.map((l) => l.name), [A.name, B.name]);
  // Token 0 of pixel q is q/10 more in layer A so the layout is visible.
  acc.add(probsOf(A, 1, 2, (h, q, t) => VALUES[A.name][1][h] * (t + 1) + (t === 0 ? q / 10 : 0)));
  acc.add(probsOf(B, 1, 2, (h, _q, t) => VALUES[B.name][1][h] * (t + 1)));
  acc.add(probsOf(C, 1, 2, () => 100));
  acc.add(probsOf(A, 0, 2, () => 100));
  const r = acc.result();
  assert.deepEqual([r.heads, r.tokens, r.height, r.width], [2, 2, 2, 2]);
  // Head 0: (0.1 + 0.2) / 2 = 0.15 (+ q/20 on token 0); head 1: (0.3 + 0.2) / 2 = 0.25.
  closeAll(r.data, [0.15, 0.2, 0.25, 0.3, 0.3, 0.3, 0.3, 0.3, 0.25, 0.3, 0.35, 0.4, 0.5, 0.5, 0.5, 0.5]);
  assert.throws(() => acc.add(probsOf(B, 1, 2, () => 0)), /given twice/);
});

test('separate-enhance: heads averaged by default; grid and step are checked', () => {
  const acc = new AttentionAccumulator({ tokens: 1, selection: resolveSelection(MODEL, { steps: 0 }), recipe: { kind: 'separate-enhance', grid: 2 } });
  acc.add(probsOf(A, 0, 1, (h) => [0.1, 0.3][h]));
  acc.add(probsOf(B, 0, 1, (h) => [0.6, 0.2][h]));
  const r = acc.result();
  assert.equal(r.heads, 1);
  closeAll(r.data, [0.3, 0.3, 0.3, 0.3]);
  assert.throws(
    () => new AttentionAccumulator({ tokens: 1, selection: resolveSelection(MODEL, { steps: 0 }), recipe: 'separate-enhance' }),
    /no selected layer has a 16x16 grid \(selected grids: 2x2, 1x1\)/,
  );
  assert.throws(
    () => new AttentionAccumulator({ tokens: 1, selection: resolveSelection(MODEL), recipe: { kind: 'separate-enhance', grid: 2 } }),
    /select a single step/,
  );
});
