import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttentionAccumulator } from '../../../src/engine/attention/accumulator';
import { keepTokens } from '../../../src/engine/attention/layout';
import { resolveSelection } from '../../../src/engine/attention/selection';
import type { LayerInfo } from '../../../src/engine/attention/types';
import { probsOf } from './helpers';

const FINE: LayerInfo = { name: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 4, gridW: 4, heads: 2 };
const COARSE: LayerInfo = { name: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 2 };
const value = (h: number, q: number, t: number): number => ((h + 1) * 0.13 + q * 0.017 + t * 0.029) % 1;

test('keepTokens picks the kept positions of every head and query, in the order given', () => {
  const p = probsOf(COARSE, 0, 5, value);
  const kept = keepTokens(p, [4, 1]);
  assert.equal(kept.tokens, 2);
  assert.equal(kept.probs.length, 2 * 4 * 2);
  for (let row = 0; row < 8; row++) assert.deepEqual([kept.probs[row * 2], kept.probs[row * 2 + 1]], [p.probs[row * 5 + 4], p.probs[row * 5 + 1]]);
});

test('DAAM maps of narrowed captures equal the kept tokens\' maps of the full ones, bit for bit', () => {
  const keep = [0, 2, 5];
  const full = new AttentionAccumulator({ outH: 8, outW: 8, tokens: 7, selection: resolveSelection([FINE, COARSE], {}, 2) });
  const narrow = new AttentionAccumulator({ outH: 8, outW: 8, tokens: keep.length, selection: resolveSelection([FINE, COARSE], {}, 2) });
  for (let step = 0; step < 2; step++) {
    for (const layer of [FINE, COARSE]) {
      const p = probsOf(layer, step, 7, (h, q, t) => value(h, q, t) * (step + 1));
      full.add(p);
      narrow.add(keepTokens(p, keep));
    }
  }
  const a = full.result();
  const b = narrow.result();
  const plane = 8 * 8;
  keep.forEach((t, i) => assert.deepEqual([...b.data.subarray(i * plane, (i + 1) * plane)], [...a.data.subarray(t * plane, (t + 1) * plane)]));
});
