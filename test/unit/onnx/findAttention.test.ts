import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanAttention } from '../../../src/engine/onnx/findAttention';
import { GraphIndex } from '../../../src/engine/onnx/graph';
import { planLayers, scopeOf } from '../../../src/engine/onnx/layers';
import { decodeModel } from '../../../src/engine/onnx/proto';
import { buildAttentionModel, LAYER } from './syntheticModels';

const FIXTURES = join(__dirname, '../../../../test/fixtures/onnx');
const load = (name: string) => new GraphIndex(decodeModel(readFileSync(join(FIXTURES, name))).graph!);

test('finds the two cross-attention layers of the torch fixture, not the self-attention ones', () => {
  const index = load('attention.onnx');
  const scan = scanAttention(index, 'encoder_hidden_states');
  assert.equal(scan.softmaxCount, 4);
  assert.equal(scan.fused.length, 0);
  const plans = planLayers(index, scan.matches);
  assert.deepEqual(plans.map((p) => [p.name, p.heads, p.headDim, p.innerDim, p.textDim]), [
    ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 2, 8, 16, 32],
    ['down_blocks.1.attentions.0.transformer_blocks.0.attn2', 4, 4, 16, 32],
  ]);
  for (const p of plans) {
    const m = p.match;
    assert.match(m.keyProjection.name!, /attn2\/to_k\/MatMul$/);
    assert.ok(m.valueWeight && m.valueWeight !== m.keyWeight, 'value projection found and distinct from the key');
    const valueUser = index.consumers.get(m.valueWeight)![0];
    assert.match(valueUser.name!, /attn2\/to_v\/MatMul$/);
    assert.equal(m.keyTransposed, true);
    assert.deepEqual(p.keyShape, [32, 16]);
    assert.ok(Math.abs(m.scale! - 1 / Math.sqrt(p.headDim)) < 1e-6);
    assert.match(index.producer.get(m.query)!.name!, /attn2\/Reshape_1$/, 'queries as they enter the score MatMul');
  }
});

test('no cross-attention in the pooled-text fixture', () => {
  const scan = scanAttention(load('no_cross_attn.onnx'), 'encoder_hidden_states');
  assert.equal(scan.softmaxCount, 4);
  assert.equal(scan.matches.length, 0);
});

test('4-D heads with a constant [0, 0, h, d] reshape and a Div by sqrt(d)', () => {
  const index = new GraphIndex(buildAttentionModel({ heads: 3, headDim: 5 }).model.graph!);
  const plans = planLayers(index, scanAttention(index, 'encoder_hidden_states').matches);
  assert.equal(plans.length, 1);
  assert.equal(plans[0].name, LAYER);
  assert.equal(plans[0].heads, 3);
  assert.equal(plans[0].headDim, 5);
  assert.equal(plans[0].match.valueWeight, 'onnx::MatMul_v');
  assert.equal(plans[0].match.keyWeight, 'onnx::MatMul_k');
});

test('fused contrib attention is reported', () => {
  const index = new GraphIndex(buildAttentionModel({ variant: 'fused' }).model.graph!);
  const scan = scanAttention(index, 'encoder_hidden_states');
  assert.equal(scan.fused.length, 1);
  assert.equal(scan.fused[0].opType, 'MultiHeadAttention');
});

test('layer names from node scopes', () => {
  assert.equal(scopeOf('/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax'), 'down_blocks.1.attentions.0.transformer_blocks.0.attn2');
  assert.equal(scopeOf('/up_blocks.1/attentions.2/transformer_blocks.0/attn2/to_k/MatMul', ['to_k']), 'up_blocks.1.attentions.2.transformer_blocks.0.attn2');
  assert.equal(scopeOf('Softmax_123'), undefined);
  assert.equal(scopeOf('/Softmax'), undefined);
  assert.equal(scopeOf(undefined), undefined);
});

test('layers without a name scope are numbered', () => {
  const index = new GraphIndex(buildAttentionModel({ unscoped: true }).model.graph!);
  const plans = planLayers(index, scanAttention(index, 'encoder_hidden_states').matches);
  assert.deepEqual(plans.map((p) => p.name), ['cross_attention.0']);
});

test('torch SDPA export: run-time sqrt(scale) on q and k^T is stripped from the queries', () => {
  const index = new GraphIndex(buildAttentionModel({ variant: 'sdpa', heads: 2, headDim: 4 }).model.graph!);
  const plans = planLayers(index, scanAttention(index, 'encoder_hidden_states').matches);
  assert.equal(plans.length, 1);
  assert.equal(plans[0].match.query, 'qh');
  assert.equal(plans[0].match.scale, undefined);
  assert.deepEqual([plans[0].heads, plans[0].headDim], [2, 4]);
});
