/** instrumentUnet against onnxruntime-node: the instrumented graph computes exactly what the original does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { instrumentUnet, loadOriginalKeys, InstrumentError, type InstrumentedUnet } from '../../src/engine/onnx/instrument';
import { decodeModel } from '../../src/engine/onnx/proto';
import { floatToHalf, halfToFloat } from '../../src/engine/safetensors/f16';
import { buildAttentionModel, LAYER } from '../unit/onnx/syntheticModels';

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/onnx');
const TINY_SHAPES = join(ROOT, 'models/tiny-shapes/unet/model.onnx');
const B = 2;
const TOKENS = 8;
const TEXT = 32;

function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  copyFileSync(join(FIXTURES, name), join(dir, name));
  return join(dir, name);
}

function wave(n: number, phase: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + phase));
}

function fixtureFeeds(): Record<string, ort.Tensor> {
  return {
    sample: new ort.Tensor('float32', wave(B * 3 * 16 * 16, 0.1), [B, 3, 16, 16]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([10n, 700n]), [B]),
    encoder_hidden_states: new ort.Tensor('float32', wave(B * TOKENS * TEXT, 2.3), [B, TOKENS, TEXT]),
  };
}

function keyFeeds(inst: InstrumentedUnet, keys: Map<string, Float32Array>): Record<string, ort.Tensor> {
  return Object.fromEntries(inst.layers.map((l) => [l.keyInput, new ort.Tensor('float32', keys.get(l.name)!, l.keyShape)]));
}

function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

async function runBoth(modelPath: string, perHead: boolean) {
  const inst = await instrumentUnet(modelPath, { perHead });
  const plain = await ort.InferenceSession.create(modelPath);
  const session = await ort.InferenceSession.create(inst.path);
  const feeds = fixtureFeeds();
  const keys = await loadOriginalKeys(inst);
  const expected = await plain.run(feeds);
  const got = await session.run({ ...feeds, ...keyFeeds(inst, keys) });
  return { inst, session, feeds, keys, expected, got };
}

test('instrumented fixture reproduces out_sample exactly and exposes per-head maps and queries', async () => {
  const { inst, session, feeds, keys, expected, got } = await runBoth(copyFixture('attention.onnx'), true);
  assert.equal(maxAbsDiff(expected.out_sample, got.out_sample), 0);
  assert.deepEqual(inst.layers.map((l) => [l.name, l.heads, l.headDim]), [
    ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 2, 8],
    ['down_blocks.1.attentions.0.transformer_blocks.0.attn2', 4, 4],
  ]);
  const nq = [256, 64];
  inst.layers.forEach((l, i) => {
    const probs = got[l.probsOutput];
    const query = got[l.queryOutput];
    assert.equal(probs.type, 'float32');
    assert.deepEqual(probs.dims, [B, l.heads, nq[i], TOKENS]);
    assert.deepEqual(query.dims, [B, l.heads, nq[i], l.headDim]);
    assert.deepEqual(l.keyShape, [TEXT, l.innerDim]);
    assertRowsSumToOne(probs.data as Float32Array, TOKENS);
    // The maps must be exactly softmax(q k^T / sqrt(d)) with k = e W_k^T split into heads: the inputs of the analytic gradient.
    const recomputed = attentionFromQueries(query.data as Float32Array, feeds.encoder_hidden_states.data as Float32Array, keys.get(l.name)!, l.heads, l.headDim, nq[i]);
    let m = 0;
    recomputed.forEach((v, j) => (m = Math.max(m, Math.abs(v - (probs.data as Float32Array)[j]))));
    assert.ok(m < 1e-5, `${l.name}: recomputed maps differ by ${m}`);
  });

  // Changing a key weight changes the image: the input is really used.
  const changed = new Map(keys);
  changed.set(inst.layers[0].name, keys.get(inst.layers[0].name)!.map((v) => v * 1.5 + 0.01));
  const after = await session.run({ ...feeds, ...keyFeeds(inst, changed) });
  assert.ok(maxAbsDiff(expected.out_sample, after.out_sample) > 1e-4);
});

test('head-averaged maps equal the mean of the per-head maps', async () => {
  const path = copyFixture('attention.onnx');
  const perHead = await runBoth(path, true);
  const averaged = await runBoth(path, false);
  assert.equal(maxAbsDiff(averaged.expected.out_sample, averaged.got.out_sample), 0);
  assert.notEqual(perHead.inst.path, averaged.inst.path);
  for (const l of averaged.inst.layers) {
    const mean = averaged.got[l.probsOutput];
    const all = perHead.got[l.probsOutput];
    const [b, h, nq, t] = all.dims;
    assert.deepEqual(mean.dims, [b, nq, t]);
    assertRowsSumToOne(mean.data as Float32Array, t);
    const d = all.data as Float32Array;
    const expected = new Float32Array(b * nq * t);
    for (let bi = 0; bi < b; bi++) for (let hi = 0; hi < h; hi++) for (let j = 0; j < nq * t; j++) expected[bi * nq * t + j] += d[(bi * h + hi) * nq * t + j] / h;
    assert.ok(maxAbsDiff(mean, new ort.Tensor('float32', expected, mean.dims)) < 1e-6);
  }
});

test('shared weights: the copy reads its weights from the original file and computes the same output', async () => {
  const path = copyFixture('attention.onnx');
  const inst = await instrumentUnet(path, { perHead: false, shareWeights: true });
  const copy = decodeModel(readFileSync(inst.path));
  const external = copy.graph!.initializer!.filter((t) => t.dataLocation === 1);
  assert.ok(external.length > 20, 'weights are not duplicated');
  for (const t of external) assert.equal(t.externalData!.find((e) => e.key === 'location')!.value, 'attention.onnx');
  const plain = await ort.InferenceSession.create(path);
  const session = await ort.InferenceSession.create(inst.path);
  const feeds = fixtureFeeds();
  const expected = await plain.run(feeds);
  const got = await session.run({ ...feeds, ...keyFeeds(inst, await loadOriginalKeys(inst)) });
  assert.equal(maxAbsDiff(expected.out_sample, got.out_sample), 0);
  const unshared = await instrumentUnet(path, { perHead: false, shareWeights: false });
  assert.notEqual(unshared.path, inst.path);
});

test('cache: written beside the model, reused on the second call, original untouched', async () => {
  const path = copyFixture('attention.onnx');
  const before = readFileSync(path);
  const first = await instrumentUnet(path, { perHead: false });
  assert.match(first.path, /attention\.prompt-lens-[0-9a-f]{8}\.onnx$/);
  assert.match(first.keysPath, /attention\.prompt-lens-[0-9a-f]{8}\.keys\.safetensors$/);
  const mtime = statSync(first.path).mtimeMs;
  const second = await instrumentUnet(path, { perHead: false });
  assert.deepEqual(second, first);
  assert.equal(statSync(first.path).mtimeMs, mtime, 'not rewritten');
  assert.deepEqual(readFileSync(path), before);
  assert.ok(!readdirSync(join(path, '..')).some((f) => f.includes('.tmp-')), 'no temporary files left');
  const manifest = JSON.parse(readFileSync(first.manifestPath, 'utf8'));
  assert.equal(manifest.layers.length, 2);
});

test('fused, cross-attention-free and non-ONNX files give clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const fused = join(dir, 'fused.onnx');
  writeFileSync(fused, buildAttentionModel({ variant: 'fused' }).bytes);
  await assert.rejects(instrumentUnet(fused, { perHead: false }), (e: Error) => {
    assert.ok(e instanceof InstrumentError);
    assert.match(e.message, /com\.microsoft\.MultiHeadAttention "\/mid_block\/attentions\.0\/transformer_blocks\.0\/attn2\/MultiHeadAttention"/);
    assert.match(e.message, /without `--optimize`/);
    return true;
  });
  const noSoftmax = join(dir, 'sigmoid.onnx');
  writeFileSync(noSoftmax, buildAttentionModel({ variant: 'noSoftmax' }).bytes);
  await assert.rejects(instrumentUnet(noSoftmax, { perHead: false }), /0 Softmax node\(s\) seen.*without a Softmax/);
  await assert.rejects(instrumentUnet(copyFixture('no_cross_attn.onnx'), { perHead: false }), /no cross-attention found: 4 Softmax node\(s\) seen, none reads keys projected from encoder_hidden_states/);
  const text = join(dir, 'notes.onnx');
  writeFileSync(text, 'this is not a model\n');
  await assert.rejects(instrumentUnet(text, { perHead: false }), (e: Error) => e.message.includes(`${text} is not an ONNX model`));
  await assert.rejects(instrumentUnet(join(dir, 'missing.onnx'), { perHead: false }), /UNet model not found: .*missing\.onnx/);
});

test('external data, opset 18 head average, 4-D heads: keys read from the weights file and output unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const path = join(dir, 'model.onnx');
  const { bytes, wk } = buildAttentionModel({ externalDir: dir, opset: 18, heads: 2, headDim: 4, textDim: 6 });
  writeFileSync(path, bytes);
  const inst = await instrumentUnet(path, { perHead: false });
  const keys = await loadOriginalKeys(inst);
  assert.deepEqual([...keys.get(LAYER)!], [...wk]);
  const feeds = {
    hidden_states: new ort.Tensor('float32', wave(B * 5 * 8, 0.4), [B, 5, 8]),
    encoder_hidden_states: new ort.Tensor('float32', wave(B * 3 * 6, 1.1), [B, 3, 6]),
  };
  const expected = await (await ort.InferenceSession.create(path)).run(feeds);
  const got = await (await ort.InferenceSession.create(inst.path)).run({ ...feeds, ...keyFeeds(inst, keys) });
  assert.equal(maxAbsDiff(expected.out_sample, got.out_sample), 0);
  assert.deepEqual(got[inst.layers[0].probsOutput].dims, [B, 5, 3]);
  assert.deepEqual(got[inst.layers[0].queryOutput].dims, [B, 2, 5, 4]);
  assertRowsSumToOne(got[inst.layers[0].probsOutput].data as Float32Array, 3);
});

test('torch SDPA-style graph: instrumented output unchanged, queries are pre-scale', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, buildAttentionModel({ variant: 'sdpa', opset: 17 }).bytes);
  const inst = await instrumentUnet(path, { perHead: true });
  const feeds = {
    hidden_states: new ort.Tensor('float32', wave(B * 5 * 8, 0.4), [B, 5, 8]),
    encoder_hidden_states: new ort.Tensor('float32', wave(B * 3 * 6, 1.1), [B, 3, 6]),
  };
  const expected = await (await ort.InferenceSession.create(path)).run(feeds);
  const got = await (await ort.InferenceSession.create(inst.path)).run({ ...feeds, ...keyFeeds(inst, await loadOriginalKeys(inst)) });
  assert.equal(maxAbsDiff(expected.out_sample, got.out_sample), 0);
  assert.deepEqual(got[inst.layers[0].queryOutput].dims, [B, 2, 5, 4]);
});

test('a key weight shared with another node stays an initializer there; only the key projection reads the input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, buildAttentionModel({ sharedKeyValue: true }).bytes);
  const inst = await instrumentUnet(path, { perHead: true });
  const keys = await loadOriginalKeys(inst);
  const feeds = {
    hidden_states: new ort.Tensor('float32', wave(B * 5 * 8, 0.4), [B, 5, 8]),
    encoder_hidden_states: new ort.Tensor('float32', wave(B * 3 * 6, 1.1), [B, 3, 6]),
  };
  const session = await ort.InferenceSession.create(inst.path);
  const expected = await (await ort.InferenceSession.create(path)).run(feeds);
  const got = await session.run({ ...feeds, ...keyFeeds(inst, keys) });
  assert.equal(maxAbsDiff(expected.out_sample, got.out_sample), 0);
  const zeroKeys = new Map([[LAYER, new Float32Array(keys.get(LAYER)!.length)]]);
  const uniform = await session.run({ ...feeds, ...keyFeeds(inst, zeroKeys) });
  for (const v of uniform[inst.layers[0].probsOutput].data as Float32Array) assert.ok(Math.abs(v - 1 / 3) < 1e-6, 'zero keys give uniform maps');
  assert.ok(maxAbsDiff(expected.out_sample, uniform.out_sample) > 1e-4, 'values still use the original weight');
});

test('changing an external weights file invalidates the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, buildAttentionModel({ externalDir: dir, seed: 1 }).bytes);
  const first = await instrumentUnet(path, { perHead: false });
  const before = (await loadOriginalKeys(first)).get(LAYER)!;
  await new Promise((r) => setTimeout(r, 20));
  const rebuilt = buildAttentionModel({ externalDir: dir, seed: 5 });
  assert.deepEqual(readFileSync(path), Buffer.from(rebuilt.bytes), 'graph bytes unchanged');
  const { wk } = rebuilt;
  const second = await instrumentUnet(path, { perHead: false });
  const after = (await loadOriginalKeys(second)).get(LAYER)!;
  assert.notDeepEqual([...after], [...before]);
  assert.deepEqual([...after], [...wk]);
});

test('float16 key weights: float16 input, originals kept as F16, loaded as float32', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-instr-'));
  const path = join(dir, 'model.onnx');
  const { bytes, wk } = buildAttentionModel({ dtype: 'float16', externalDir: dir });
  writeFileSync(path, bytes);
  const inst = await instrumentUnet(path, { perHead: true });
  const layer = inst.layers[0];
  assert.equal(layer.keyDtype, 'float16');
  assert.deepEqual([layer.heads, layer.headDim, layer.innerDim, layer.textDim], [2, 4, 8, 6]);
  const keys = await loadOriginalKeys(inst);
  assert.deepEqual([...keys.get(LAYER)!], [...wk].map((v) => halfToFloat(floatToHalf(v))));
  // onnxruntime-node's CPU provider runs these float16 ops (MatMul, Softmax, Mul, Add, Cast, Reshape, Transpose).
  const session = await ort.InferenceSession.create(inst.path);
  const feeds = {
    hidden_states: new ort.Tensor('float16', Uint16Array.from(wave(B * 5 * 8, 0.4), (x) => floatToHalf(x)), [B, 5, 8]),
    encoder_hidden_states: new ort.Tensor('float16', Uint16Array.from(wave(B * 3 * 6, 1.1), (x) => floatToHalf(x)), [B, 3, 6]),
  };
  const expected = await (await ort.InferenceSession.create(path)).run(feeds);
  const keyHalf = new ort.Tensor('float16', Uint16Array.from(keys.get(LAYER)!, (x) => floatToHalf(x)), layer.keyShape);
  const got = await session.run({ ...feeds, [layer.keyInput]: keyHalf });
  assert.deepEqual([...(got.out_sample.data as Uint16Array)], [...(expected.out_sample.data as Uint16Array)]);
  assert.equal(got[layer.probsOutput].type, 'float32');
});

test('embedded tiny-shapes UNet instruments and reproduces its output', { skip: !existsSync(TINY_SHAPES) && 'models/tiny-shapes/unet/model.onnx not present' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-tiny-'));
  const path = join(dir, 'model.onnx');
  copyFileSync(TINY_SHAPES, path);
  const inst = await instrumentUnet(path, { perHead: true });
  assert.ok(inst.layers.length >= 2);
  for (const l of inst.layers) assert.match(l.name, /^(down|mid|up)_blocks?\.?.*attn2$/);
  const plain = await ort.InferenceSession.create(path);
  const session = await ort.InferenceSession.create(inst.path);
  const input = (name: string) => plain.inputNames.includes(name);
  assert.ok(input('sample') && input('timestep') && input('encoder_hidden_states'));
  const textDim = inst.layers[0].textDim;
  const tsMeta = (plain as unknown as { inputMetadata?: { name: string; type?: string }[] }).inputMetadata?.find((m) => m.name === 'timestep');
  const timestep = tsMeta?.type === 'float32' ? new ort.Tensor('float32', Float32Array.of(500, 20), [B]) : new ort.Tensor('int64', BigInt64Array.from([500n, 20n]), [B]);
  const feeds = {
    sample: new ort.Tensor('float32', wave(B * 3 * 32 * 32, 0.2), [B, 3, 32, 32]),
    timestep,
    encoder_hidden_states: new ort.Tensor('float32', wave(B * 16 * textDim, 0.9), [B, 16, textDim]),
  };
  const expected = await plain.run(feeds);
  const got = await session.run({ ...feeds, ...keyFeeds(inst, await loadOriginalKeys(inst)) });
  assert.ok(maxAbsDiff(expected.out_sample, got.out_sample) <= 1e-6);
  for (const l of inst.layers) {
    const probs = got[l.probsOutput];
    assert.equal(probs.dims[1], l.heads);
    assert.ok([256, 64].includes(probs.dims[2]), `${l.name}: ${probs.dims}`);
    assertRowsSumToOne(probs.data as Float32Array, probs.dims[3]);
  }
});

function assertRowsSumToOne(data: Float32Array, width: number): void {
  for (let r = 0; r < data.length / width; r++) {
    let s = 0;
    for (let j = 0; j < width; j++) s += data[r * width + j];
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
  }
}

/** softmax(q k^T / sqrt(d)) per batch and head, with k = e Wt ([tokens, inner]) split into heads by columns. */
function attentionFromQueries(q: Float32Array, e: Float32Array, wt: Float32Array, heads: number, d: number, nq: number): Float32Array {
  const inner = heads * d;
  const out = new Float32Array(B * heads * nq * TOKENS);
  for (let b = 0; b < B; b++) {
    const k = new Float64Array(TOKENS * inner);
    for (let t = 0; t < TOKENS; t++) for (let c = 0; c < inner; c++) {
      let s = 0;
      for (let x = 0; x < TEXT; x++) s += e[(b * TOKENS + t) * TEXT + x] * wt[x * inner + c];
      k[t * inner + c] = s;
    }
    for (let h = 0; h < heads; h++) for (let i = 0; i < nq; i++) {
      const row = new Float64Array(TOKENS);
      for (let t = 0; t < TOKENS; t++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[((b * heads + h) * nq + i) * d + c] * k[t * inner + h * d + c];
        row[t] = s / Math.sqrt(d);
      }
      const mx = Math.max(...row);
      const ex = row.map((v) => Math.exp(v - mx));
      const z = ex.reduce((a, v) => a + v, 0);
      for (let t = 0; t < TOKENS; t++) out[((b * heads + h) * nq + i) * TOKENS + t] = ex[t] / z;
    }
  }
  return out;
}
