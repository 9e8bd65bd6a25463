import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AttentionStoreBuilder, canAggregate, decodeAttentionStore, encodeAttentionStore } from '../../../src/engine/record/attentionStore';

// One 1x2 layer, two heads, four text positions of which 1 and 3 are kept, three steps.
function capture(step: number) {
  const probs = new Float32Array(2 * 2 * 4);
  for (let i = 0; i < probs.length; i++) probs[i] = (i + 1) / 100 + step;
  return { layer: 'up.attn2', step, timestep: 900 - step, gridH: 1, gridW: 2, heads: 2, tokens: 4, probs };
}

describe('attention store', () => {
  test('keeps only the kept positions, per step within the budget, and survives float16 encoding', () => {
    const builder = new AttentionStoreBuilder([1, 3], 3);
    for (let s = 0; s < 3; s++) builder.add(capture(s));
    const store = builder.result();
    assert.equal(store.perStep, true);
    // Step 0, head 0, query 0: positions 1 and 3 of [0.01, 0.02, 0.03, 0.04].
    assert.deepEqual([...store.layers[0].data.slice(0, 2)].map((v) => Math.round(v * 1000) / 1000), [0.02, 0.04]);
    assert.equal(store.layers[0].data.length, 3 * 2 * 2 * 2);
    const back = decodeAttentionStore(encodeAttentionStore(store), 'store');
    assert.deepEqual([back.tokens, back.kept, back.steps, back.perStep], [4, [1, 3], 3, true]);
    for (let i = 0; i < store.layers[0].data.length; i++) assert.ok(Math.abs(back.layers[0].data[i] - store.layers[0].data[i]) <= 2e-3 * Math.abs(store.layers[0].data[i]));
    assert.equal(canAggregate(back, { steps: { from: 1, to: 1 } }), true);
  });

  test('past the budget only step sums are kept: every step can be aggregated, a step range cannot', () => {
    const builder = new AttentionStoreBuilder([1, 3], 3, 10);
    for (let s = 0; s < 3; s++) builder.add(capture(s));
    const store = builder.result();
    assert.equal(store.perStep, false);
    assert.equal(store.layers[0].data.length, 2 * 2 * 2);
    // Position 1 of head 0, query 0 summed over the steps: 0.02 + 1.02 + 2.02.
    assert.ok(Math.abs(store.layers[0].data[0] - 3.06) < 1e-5);
    assert.equal(canAggregate(store, { heads: [1] }), true);
    assert.equal(canAggregate(store, { steps: { from: 0, to: 2 } }), true);
    assert.equal(canAggregate(store, { steps: { from: 1, to: 2 } }), false);
  });
});
