/**
 * The engine on a Stable Diffusion 1.x-shaped model: test/fixtures/sd-tiny, a random-weight miniature with SD 1.x's
 * block structure, diffusers' module names and classic unfused attention (baddbmm), exported as Optimum does
 * (made by python3 -m prompt_lens_py.fixtures.sd_fixture). Latent space: 4 channels, VAE decoder x8, 77 text positions,
 * 16 cross-attention layers at latent/1, /2, /4 and /8.
 *
 * The external-data and float16-weight variants are derived here from the committed fixture (with the engine's own
 * protobuf codec) instead of being committed: both are over the size budget as files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline, type AttentionCapture } from '../../src/engine/pipeline/pipeline';
import { instrumentUnet, loadOriginalKeys, type CrossAttentionLayer, type InstrumentedUnet } from '../../src/engine/onnx/instrument';
import { EXTERNAL, decodeModel, encodeModel } from '../../src/engine/onnx/proto';
import { float32Data, floatTensor, keyTensor } from '../../src/engine/pipeline/tensors';
import { toHalfPrecisionExport } from './halfPrecisionExport';
import { checkCloseTo, checkFinetuneCloseTo, checkFloat16Io, copyFixture, maxAbsDiff, meanOverHeads, recomputeProbs, SD_CROSS_ATTENTION_LAYERS, SD_MODELS, storeWeightsAsFp16 } from './sdExport';

const ROOT = join(__dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/sd-tiny');
const TOKENS = 77;
const TEXT_DIM = 64;
const HEADS = 2;
const LATENT = 8;

const EXPECTED_LAYERS = SD_CROSS_ATTENTION_LAYERS;
/** block_out_channels 16,16,32,32 with 2 heads: inner dim per grid divisor. */
const INNER_DIM: Record<number, number> = { 1: 16, 2: 16, 4: 32, 8: 32 };

const copySdTiny = (): string => copyFixture(FIXTURE, 'pl-sd-tiny-');

function wave(n: number, phase: number, amp = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin(i * 1.37 + phase));
}

function keyFeeds(inst: InstrumentedUnet, keys: Map<string, Float32Array>): Record<string, ort.Tensor> {
  return Object.fromEntries(inst.layers.map((l) => [l.keyInput, keyTensor(l, keys.get(l.name)!)]));
}

/** Real text-encoder output for two prompts, so the keys are what a run would see. */
interface Embeddings {
  values: Float32Array;
  dims: readonly number[];
}

async function textEmbeddings(dir: string): Promise<Embeddings> {
  const folder = await openModelFolder(dir);
  const pipeline = await Pipeline.load(folder);
  const text = await pipeline.encodeText(['', 'a photo of a cat and a dog']);
  return { values: text.embeddings, dims: text.dims };
}

/** Feeds in the types the session declares, so fp16-I/O exports (optimum --fp16) get float16. */
function unetFeeds(session: ort.InferenceSession, hidden: Embeddings, h = LATENT, w = LATENT): Record<string, ort.Tensor> {
  return {
    sample: floatTensor(session, 'sample', wave(2 * 4 * h * w, 0.3), [2, 4, h, w]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([981n, 1n]), [2]),
    encoder_hidden_states: floatTensor(session, 'encoder_hidden_states', hidden.values, hidden.dims),
  };
}

function checkLayers(layers: CrossAttentionLayer[], keyDtype: 'float32' | 'float16'): void {
  assert.deepEqual(layers.map((l) => l.name).sort(), Object.keys(EXPECTED_LAYERS).sort());
  for (const l of layers) {
    const inner = INNER_DIM[EXPECTED_LAYERS[l.name]];
    assert.equal(l.heads, HEADS, l.name);
    assert.equal(l.innerDim, inner, l.name);
    assert.equal(l.headDim, inner / HEADS, l.name);
    assert.equal(l.textDim, TEXT_DIM, l.name);
    assert.equal(l.keyDtype, keyDtype, l.name);
    assert.deepEqual(l.keyShape, l.keyTransposed ? [TEXT_DIM, inner] : [inner, TEXT_DIM], l.name);
  }
}

/** How close the exposed probabilities are to their definition: rows sum to 1, and softmax(q k^T / sqrt(d)) recomputed. */
interface ProbsTolerance {
  rowSum: number;
  recomputed: number;
}
const FLOAT32_PROBS: ProbsTolerance = { rowSum: 1e-4, recomputed: 1e-4 };

/** Instrumented vs plain UNet on the same feeds (original keys): out_sample within 1e-5, probs = softmax(q k^T). */
async function checkInstrumentedMatchesPlain(unetPath: string, inst: InstrumentedUnet, hidden: Embeddings, tolerance = FLOAT32_PROBS): Promise<void> {
  const plain = await ort.InferenceSession.create(unetPath);
  const session = await ort.InferenceSession.create(inst.path);
  const keys = await loadOriginalKeys(inst);
  const feeds = unetFeeds(plain, hidden);
  const expected = await plain.run(feeds);
  const fetches = ['out_sample', ...inst.layers.flatMap((l) => [l.probsOutput, l.queryOutput])];
  const got = await session.run({ ...feeds, ...keyFeeds(inst, keys) }, fetches);
  assert.deepEqual(got.out_sample.dims, [2, 4, LATENT, LATENT]);
  const diff = maxAbsDiff(float32Data(got.out_sample, 'out_sample'), float32Data(expected.out_sample, 'out_sample'));
  assert.ok(diff <= 1e-5, `instrumented out_sample differs from the plain graph by ${diff}`);
  let worstRowSum = 0;
  let worstRecomputed = 0;
  for (const l of inst.layers) {
    const grid = LATENT / EXPECTED_LAYERS[l.name];
    const probs = got[l.probsOutput];
    assert.deepEqual(probs.dims, [2, grid * grid, TOKENS], l.name);
    assert.deepEqual(got[l.queryOutput].dims, [2, l.heads, grid * grid, l.headDim], l.name);
    const p = float32Data(probs, l.probsOutput);
    for (let r = 0; r < 2 * grid * grid; r++) {
      let s = 0;
      for (let t = 0; t < TOKENS; t++) s += p[r * TOKENS + t];
      assert.ok(Math.abs(s - 1) < tolerance.rowSum, `${l.name}: row ${r} sums to ${s}`);
      worstRowSum = Math.max(worstRowSum, Math.abs(s - 1));
    }
    const ref = meanOverHeads(recomputeProbs(l, got[l.queryOutput], hidden.values, keys.get(l.name)!, 2, TOKENS), 2, l.heads, grid * grid, TOKENS);
    const pd = maxAbsDiff(p, ref);
    assert.ok(pd < tolerance.recomputed, `${l.name}: probabilities differ from softmax(q k^T / sqrt(d)) by ${pd}`);
    worstRecomputed = Math.max(worstRecomputed, pd);
  }
  console.log(`instrumented = plain within ${diff.toExponential(1)}; probabilities: rows sum to 1 within ${worstRowSum.toExponential(1)}, softmax(q k^T) recomputed within ${worstRecomputed.toExponential(1)}`);
}

test('sd-tiny fixture: Optimum layout, opened by the engine, within the size budget', async () => {
  const folder = await openModelFolder(FIXTURE);
  assert.ok(folder.vaeDecoderPath, 'vae_decoder/model.onnx is found');
  const index = JSON.parse(readFileSync(join(FIXTURE, 'model_index.json'), 'utf8'));
  assert.equal(index._class_name, 'OnnxStableDiffusionPipeline');
  const sched = JSON.parse(readFileSync(join(FIXTURE, 'scheduler/scheduler_config.json'), 'utf8'));
  assert.equal(sched.beta_schedule, 'scaled_linear');
  const tok = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer/tokenizer_config.json'), 'utf8'));
  assert.equal(tok.model_max_length, TOKENS);
  const unetCfg = JSON.parse(readFileSync(join(FIXTURE, 'unet/config.json'), 'utf8'));
  assert.deepEqual(unetCfg.prompt_lens_fixture.cross_attention_layers_grid_divisor, EXPECTED_LAYERS);
  let total = 0;
  for (const sub of ['text_encoder', 'unet', 'vae_decoder']) {
    for (const f of readdirSync(join(FIXTURE, sub))) if (f.startsWith('model.onnx')) total += statSync(join(FIXTURE, sub, f)).size;
  }
  assert.ok(total < 6.5 * 1024 * 1024, `ONNX files total ${total} bytes`);

  const te = await ort.InferenceSession.create(folder.textEncoderPath);
  assert.deepEqual(te.inputNames, ['input_ids']);
  assert.deepEqual(te.outputNames, ['last_hidden_state', 'pooler_output']);
  assert.equal(te.inputMetadata[0].isTensor && te.inputMetadata[0].type, 'int32');
  const unet = await ort.InferenceSession.create(folder.unetPath);
  assert.deepEqual(unet.inputNames, ['sample', 'timestep', 'encoder_hidden_states']);
  const ts = unet.inputMetadata.find((m) => m.name === 'timestep')!;
  assert.equal(ts.isTensor && ts.type, 'int64');
  const vae = await ort.InferenceSession.create(folder.vaeDecoderPath!);
  assert.deepEqual(vae.inputNames, ['latent_sample']);
  assert.deepEqual(vae.outputNames, ['sample']);
});

test('sd-tiny: instrumentation finds the 16 cross-attention layers (baddbmm form) and changes nothing', async () => {
  const dir = copySdTiny();
  const unetPath = join(dir, 'unet/model.onnx');
  const inst = await instrumentUnet(unetPath, { perHead: false });
  checkLayers(inst.layers, 'float32');
  await checkInstrumentedMatchesPlain(unetPath, inst, await textEmbeddings(dir));
});

test('sd-tiny: 64x64 image in 2 steps with attention captures at latent/1, /2, /4, /8', async () => {
  const dir = copySdTiny();
  for (const perHead of [false, true]) {
    const pipeline = await Pipeline.load(await openModelFolder(dir), { perHead });
    assert.deepEqual(pipeline.sampleShape({ width: 64, height: 64 }), [4, LATENT, LATENT]);
    const steps: AttentionCapture[][] = [];
    const out = await pipeline.generate(
      { prompt: 'a photo of a cat and a dog', negativePrompt: '', seed: 7, steps: 2, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } },
      {
        onAttention: (captures) =>
          steps.push(captures.map((c) => ({ ...c, probs: c.probs.slice() }))), // probs is a view valid during the callback
      },
    );
    assert.equal(out.image.width, 64);
    assert.equal(out.image.height, 64);
    assert.equal(out.image.data.length, 64 * 64 * out.image.channels);
    assert.ok(new Set(out.image.data).size > 8, 'the decoded image is not flat');
    assert.deepEqual(out.timesteps, [501, 1]);
    assert.equal(steps.length, 2);
    for (const [i, captures] of steps.entries()) {
      assert.deepEqual(captures.map((c) => c.layer).sort(), Object.keys(EXPECTED_LAYERS).sort());
      for (const c of captures) {
        const grid = LATENT / EXPECTED_LAYERS[c.layer];
        assert.equal(c.step, i);
        assert.equal(c.timestep, out.timesteps[i]);
        assert.deepEqual([c.gridH, c.gridW], [grid, grid], c.layer);
        assert.equal(c.heads, perHead ? HEADS : 1);
        assert.equal(c.tokens, TOKENS);
        assert.equal(c.probs.length, c.heads * grid * grid * TOKENS);
        assert.ok(c.probs.every((v) => Number.isFinite(v) && v >= 0 && v <= 1));
      }
    }
    // The maps are not uniform over the tokens (random but live key weights).
    const fine = steps[0].find((c) => c.layer === 'down_blocks.0.attentions.0.transformer_blocks.0.attn2')!;
    const first = fine.probs.slice(0, TOKENS);
    assert.ok(Math.max(...first) - Math.min(...first) > 1e-3);
  }
});

test('sd-tiny: non-square latents (dynamic height/width) place queries on the right grids', async () => {
  const dir = copySdTiny();
  const pipeline = await Pipeline.load(await openModelFolder(dir));
  const seen: AttentionCapture[] = [];
  const out = await pipeline.generate(
    { prompt: 'a red apple', negativePrompt: '', seed: 1, steps: 1, guidance: 1, eta: 0, size: { width: 128, height: 64 } },
    { onAttention: (c) => seen.push(...c.map((x) => ({ ...x, probs: new Float32Array(0) }))) },
  );
  assert.deepEqual([out.image.width, out.image.height], [128, 64]);
  for (const c of seen) {
    const f = EXPECTED_LAYERS[c.layer];
    assert.deepEqual([c.gridH, c.gridW], [8 / f, 16 / f], c.layer);
  }
});

test('sd-tiny with external data (unet/model.onnx + model.onnx_data): instrumented = plain', async () => {
  const dir = copySdTiny();
  const unetPath = join(dir, 'unet/model.onnx');
  const model = decodeModel(readFileSync(unetPath));
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < 1024) continue;
    chunks.push(Buffer.from(raw));
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = EXTERNAL;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  writeFileSync(join(dir, 'unet/model.onnx_data'), Buffer.concat(chunks));
  writeFileSync(unetPath, encodeModel(model));
  assert.ok(statSync(unetPath).size < offset, 'most weight bytes moved out');

  const hidden = await textEmbeddings(dir);
  const inst = await instrumentUnet(unetPath, { perHead: false });
  checkLayers(inst.layers, 'float32');
  await checkInstrumentedMatchesPlain(unetPath, inst, hidden);
  // The keys read from the external file equal the embedded originals.
  const embedded = await loadOriginalKeys(await instrumentUnet(join(copySdTiny(), 'unet/model.onnx'), { perHead: false }));
  const external = await loadOriginalKeys(inst);
  for (const [name, values] of embedded) assert.deepEqual(external.get(name), values, name);
  // Sharing weights with the original (the >256 MiB default) also works with external data.
  const shared = await instrumentUnet(unetPath, { perHead: true, shareWeights: true });
  checkLayers(shared.layers, 'float32');
  const session = await ort.InferenceSession.create(shared.path);
  const got = await session.run({ ...unetFeeds(session, hidden), ...keyFeeds(shared, external) }, ['out_sample']);
  const plainSession = await ort.InferenceSession.create(unetPath);
  const plain = await plainSession.run(unetFeeds(plainSession, hidden));
  assert.ok(maxAbsDiff(float32Data(got.out_sample, 'out_sample'), float32Data(plain.out_sample, 'out_sample')) <= 1e-5);
});

/** Every float32 initializer with more than one element stored as FLOAT16 behind a Cast (prompt_lens_py.fixtures.sd_fixture --fp16). */
function fp16WeightsUnet(dir: string): string {
  const unetPath = join(dir, 'unet/model.onnx');
  storeWeightsAsFp16(unetPath);
  return unetPath;
}

test('sd-tiny with float16 weights behind Cast: instrumentation finds float16 keys; instrumented = plain', async () => {
  const dir = copySdTiny();
  const unetPath = fp16WeightsUnet(dir);
  const inst = await instrumentUnet(unetPath, { perHead: false });
  checkLayers(inst.layers, 'float16');
  await checkInstrumentedMatchesPlain(unetPath, inst, await textEmbeddings(dir));
});

test(
  'sd-tiny with float16 weights: the pipeline generates',
  async () => {
    const dir = copySdTiny();
    fp16WeightsUnet(dir);
    const pipeline = await Pipeline.load(await openModelFolder(dir));
    const out = await pipeline.generate({ prompt: 'a cat', negativePrompt: '', seed: 1, steps: 2, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } });
    assert.equal(out.image.width, 64);
  },
);

test('sd-tiny traced in half precision (optimum --fp16 on CUDA): float16 weights, keys, activations and I/O; instrumented = plain; generation, maps and finetune close to fp32', async () => {
  const dir = copySdTiny();
  const kept = Object.fromEntries(SD_MODELS.map((m) => [m, toHalfPrecisionExport(join(dir, m, 'model.onnx'))]));
  // float32 only where diffusers computes in float32: the sinusoidal timestep embedding, the VAE's upcast softmax.
  assert.deepEqual(kept, { text_encoder: [], unet: ['/time_proj/Cast'], vae_decoder: ['/decoder/mid_block/attentions.0/Cast_6'] });
  await checkFloat16Io(dir);
  const unetPath = join(dir, 'unet/model.onnx');
  const inst = await instrumentUnet(unetPath, { perHead: false });
  checkLayers(inst.layers, 'float16');
  // Probabilities rounded to float16 (rows measured to sum to 1 within 2e-7 on the CPU provider, which computes
  // float16 kernels it lacks in float32); recomputed in float64 from the float16 queries and keys: 3.4e-4.
  await checkInstrumentedMatchesPlain(unetPath, inst, await textEmbeddings(dir), { rowSum: 1e-3, recomputed: 2e-3 });

  const half = await Pipeline.load(await openModelFolder(dir));
  const full = await Pipeline.load(await openModelFolder(FIXTURE));
  const request = { prompt: 'a photo of a cat and a dog', negativePrompt: '', seed: 7, steps: 2, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } };
  // Measured: 1 level, 5.9e-3.
  await checkCloseTo('half-precision trace vs fp32', half, full, request, { image: 4, probs: 2e-2 });
  // The finetune's gradient reads float16 maps and keys; its loss curve follows fp32's (measured within 1.2e-4 relative).
  const training = [{ text: 'a red cat and a blue dog', objects: [{ word: 'cat', start: 6, end: 9 }, { word: 'dog', start: 21, end: 24 }] }];
  await checkFinetuneCloseTo(half, full, training, request);
});

/**
 * Optional: the same checks on another SD 1.x/2.x-structured ONNX folder, e.g. a real Optimum export or a
 * prompt_lens_py.fixtures.sd_fixture variant (`--attention sdpa`, `--external-data`, `--fp16`, `--full-size`), used in place
 * (the instrumented cache is written beside its UNet). PROMPT_LENS_SD_MODEL=/path node --test out/test/engine/sdFixture.test.js
 */
const OTHER = process.env.PROMPT_LENS_SD_MODEL;
test('PROMPT_LENS_SD_MODEL folder: 16 layers, instrumented = plain, 64x64 generation with captures', { skip: OTHER ? false : 'PROMPT_LENS_SD_MODEL not set' }, async () => {
  const dir = OTHER!;
  const folder = await openModelFolder(dir);
  const hidden = await textEmbeddings(dir);
  const inst = await instrumentUnet(folder.unetPath, { perHead: false });
  assert.deepEqual(inst.layers.map((l) => l.name).sort(), Object.keys(EXPECTED_LAYERS).sort());
  for (const l of inst.layers) {
    assert.equal(l.heads * l.headDim, l.innerDim, l.name);
    assert.equal(l.textDim, hidden.dims[2], l.name);
  }
  console.log(JSON.stringify(inst.layers.map((l) => [l.name, l.heads, l.headDim, l.keyDtype, l.keyTransposed])));
  await checkInstrumentedMatchesPlain(folder.unetPath, inst, hidden);
  const pipeline = await Pipeline.load(folder);
  let calls = 0;
  const out = await pipeline.generate(
    { prompt: 'a photo of a cat and a dog', negativePrompt: '', seed: 7, steps: 2, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } },
    {
      onAttention: (captures) => {
        calls++;
        for (const c of captures) assert.deepEqual([c.gridH, c.gridW], [LATENT / EXPECTED_LAYERS[c.layer], LATENT / EXPECTED_LAYERS[c.layer]]);
      },
    },
  );
  assert.deepEqual([out.image.width, out.image.height, calls], [64, 64, 2]);
});
