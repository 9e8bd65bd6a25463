/**
 * The engine on a Stable Diffusion 2.x-shaped model: test/fixtures/sd2-tiny (python3 -m prompt_lens_py.fixtures.sd_fixture --sd2),
 * a random-weight miniature of stabilityai/stable-diffusion-2-1 exported as Optimum exports it: DDIM with
 * v-prediction, a tokenizer that pads with "!", an OpenCLIP-style text encoder (GELU) whose width is the UNet's
 * cross_attention_dim, Transformer2DModel with Linear proj_in/proj_out and upcast_attention (Cast before the
 * scores), and SD 2.1's per-block head counts at one head dim (5, 10, 20, 20 heads of 64 there; 2, 4, 8, 8 of 4 here).
 *
 * The fp16-I/O variants (`optimum-cli export onnx --fp16`: float inputs and outputs declared float16) are derived
 * here from the committed fixture by the graph surgery prompt_lens_py.fixtures.sd_fixture --fp16-io does, instead of being committed.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor, type TrainingPrompt } from '../../src/engine/finetune/trainer';
import { tensorToRgb } from '../../src/engine/image/raster';
import { checkCompatibility } from '../../src/engine/model/compatibility';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { loadOriginalKeys, type CrossAttentionLayer } from '../../src/engine/onnx/instrument';
import { AttrType, DataType, decodeModel, encodeModel, type NodeProto } from '../../src/engine/onnx/proto';
import { Pipeline, type AttentionCapture, type GenerateRequest } from '../../src/engine/pipeline/pipeline';
import { Rng } from '../../src/engine/random';
import { readSchedulerConfig } from '../../src/engine/scheduler';
import { ClipTokenizer } from '../../src/engine/tokenizer/clipTokenizer';
import { checkDirectionalDerivative } from './directionalCheck';
import { toHalfPrecisionExport } from './halfPrecisionExport';
import { checkCloseTo, checkFinetuneCloseTo, checkFloat16Io, copyFixture, generateWithCaptures, maxAbsDiff, recomputeProbs, SD_CROSS_ATTENTION_LAYERS, SD_MODELS, storeWeightsAsFp16 } from './sdExport';

const ROOT = join(__dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/sd2-tiny');
const TOKENS = 77;
const TEXT_DIM = 32;
const HEAD_DIM = 4;
const LATENT = 8;

const EXPECTED_LAYERS = SD_CROSS_ATTENTION_LAYERS;
/** Heads by grid divisor: attention_head_dim [2, 4, 8, 8] per down block (the mid block takes the last, up blocks the reverse). */
const HEADS: Record<number, number> = { 1: 2, 2: 4, 4: 8, 8: 8 };
const headsOf = (layer: string): number => HEADS[EXPECTED_LAYERS[layer]];

const PROMPT = 'a red cat and a blue dog';
const TRAINING: TrainingPrompt[] = [{ text: PROMPT, objects: [{ word: 'cat', start: 6, end: 9 }, { word: 'dog', start: 21, end: 24 }] }];

const copySd2Tiny = (): string => copyFixture(FIXTURE, 'pl-sd2-tiny-');

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

const MODELS = SD_MODELS;
const modelPath = (dir: string, sub: (typeof MODELS)[number]): string => join(dir, sub, 'model.onnx');

/**
 * prompt_lens_py.fixtures.sd_fixture --fp16-io in TypeScript: every float32 graph input and output declared FLOAT16 around the
 * unchanged float32 graph (input `x` -> Cast(to=FLOAT) -> `x_fp32`; `y_fp32` -> Cast(to=FLOAT16) -> output `y`).
 */
function fp16Io(path: string): string[] {
  const model = decodeModel(readFileSync(path));
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const rename = new Map<string, string>();
  const castsIn: NodeProto[] = [];
  const castsOut: NodeProto[] = [];
  const cast = (input: string, output: string, to: number, label: string): NodeProto => ({
    opType: 'Cast', name: `/fp16_io/Cast_${label}`, input: [input], output: [output], attribute: [{ name: 'to', type: AttrType.INT, i: to }],
  });
  for (const [values, isInput] of [[graph.input ?? [], true], [graph.output ?? [], false]] as const) {
    for (const v of values) {
      const tensorType = v.type?.tensorType;
      if (!v.name || initializers.has(v.name) || !tensorType || tensorType.elemType !== DataType.FLOAT) continue;
      const inner = `${v.name}_fp32`;
      rename.set(v.name, inner);
      tensorType.elemType = DataType.FLOAT16;
      if (isInput) castsIn.push(cast(v.name, inner, DataType.FLOAT, v.name));
      else castsOut.push(cast(inner, v.name, DataType.FLOAT16, v.name));
    }
  }
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((x) => rename.get(x) ?? x);
    n.output = (n.output ?? []).map((x) => rename.get(x) ?? x);
  }
  for (const v of graph.valueInfo ?? []) if (v.name && rename.has(v.name)) v.name = rename.get(v.name);
  graph.node = [...castsIn, ...(graph.node ?? []), ...castsOut];
  writeFileSync(path, encodeModel(model));
  return [...rename.keys()];
}

function checkLayers(layers: CrossAttentionLayer[], keyDtype: 'float32' | 'float16'): void {
  assert.deepEqual(layers.map((l) => l.name).sort(), Object.keys(EXPECTED_LAYERS).sort());
  for (const l of layers) {
    const heads = headsOf(l.name);
    assert.deepEqual([l.heads, l.headDim, l.innerDim, l.textDim], [heads, HEAD_DIM, heads * HEAD_DIM, TEXT_DIM], l.name);
    assert.equal(l.keyDtype, keyDtype, l.name);
    assert.deepEqual(l.keyShape, l.keyTransposed ? [TEXT_DIM, heads * HEAD_DIM] : [heads * HEAD_DIM, TEXT_DIM], l.name);
  }
}

/** Every layer captured once per step, on its grid, with its own head count. */
function checkCaptures(steps: AttentionCapture[][], timesteps: number[], gridH: number, gridW: number): void {
  assert.equal(steps.length, timesteps.length);
  for (const [i, captures] of steps.entries()) {
    assert.deepEqual(captures.map((c) => c.layer).sort(), Object.keys(EXPECTED_LAYERS).sort());
    for (const c of captures) {
      const f = EXPECTED_LAYERS[c.layer];
      assert.deepEqual([c.step, c.timestep], [i, timesteps[i]], c.layer);
      assert.deepEqual([c.gridH, c.gridW, c.heads, c.tokens], [gridH / f, gridW / f, headsOf(c.layer), TOKENS], c.layer);
      assert.equal(c.probs.length, c.heads * c.gridH * c.gridW * TOKENS, c.layer);
      assert.ok(c.probs.every((v) => Number.isFinite(v) && v >= 0 && v <= 1), c.layer);
    }
  }
}

const REQUEST: GenerateRequest = { prompt: PROMPT, negativePrompt: '', seed: 7, steps: 2, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } };

let dir: string;
let pipeline: Pipeline;
before(async () => {
  dir = copySd2Tiny();
  pipeline = await Pipeline.load(await openModelFolder(dir)); // per-head outputs, as the finetune needs
});

test("sd2-tiny fixture: SD 2.1's configs and graph structure in Optimum's layout, within the size budget", async () => {
  const index = readJson(join(FIXTURE, 'model_index.json'));
  assert.equal(index._class_name, 'OnnxStableDiffusionPipeline');
  assert.deepEqual(index.scheduler, ['diffusers', 'DDIMScheduler']);
  const sched = await readSchedulerConfig(join(FIXTURE, 'scheduler/scheduler_config.json'));
  assert.deepEqual(
    [sched.predictionType, sched.betaSchedule, sched.betaStart, sched.betaEnd, sched.setAlphaToOne, sched.stepsOffset, sched.clipSample, sched.timestepSpacing],
    ['v_prediction', 'scaled_linear', 0.00085, 0.012, false, 1, false, 'leading'],
  );
  const unetCfg = readJson(join(FIXTURE, 'unet/config.json'));
  const textCfg = readJson(join(FIXTURE, 'text_encoder/config.json'));
  assert.deepEqual(unetCfg.attention_head_dim, [2, 4, 8, 8]);
  assert.deepEqual(unetCfg.block_out_channels, [2, 4, 8, 8].map((h) => h * HEAD_DIM));
  assert.equal(unetCfg.use_linear_projection, true);
  assert.equal(unetCfg.upcast_attention, true);
  assert.equal(unetCfg.cross_attention_dim, TEXT_DIM);
  assert.equal(textCfg.hidden_size, TEXT_DIM);
  assert.equal(textCfg.hidden_act, 'gelu');
  const fixtureInfo = unetCfg.prompt_lens_fixture as Record<string, unknown>;
  assert.deepEqual(fixtureInfo.cross_attention_layers_grid_divisor, EXPECTED_LAYERS);
  assert.deepEqual(fixtureInfo.cross_attention_layers_heads, Object.fromEntries(Object.keys(EXPECTED_LAYERS).map((l) => [l, headsOf(l)])));
  assert.equal(readJson(join(FIXTURE, 'tokenizer/tokenizer_config.json')).pad_token, '!');

  // The committed files (instrumentation caches excluded) stay within 5 MB.
  let total = 0;
  const walk = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name));
      else if (!f.name.includes('.prompt-lens-')) total += statSync(join(d, f.name)).size;
    }
  };
  walk(FIXTURE);
  assert.ok(total < 5 * 1024 * 1024, `fixture files total ${total} bytes`);

  // Linear proj_in/proj_out (MatMul on [B, HW, C]), not 1x1 convolutions; upcast_attention's Casts before the scores.
  const unet = decodeModel(readFileSync(join(FIXTURE, 'unet/model.onnx'))).graph!.node ?? [];
  const proj = unet.filter((n) => /\/attentions\.\d\/proj_(in|out)\//.test(n.name ?? ''));
  assert.equal(new Set(proj.map((n) => n.name!.split('/proj_')[0])).size, 16);
  assert.ok(proj.some((n) => n.opType === 'MatMul') && !proj.some((n) => n.opType === 'Conv'), 'Linear projections');
  assert.equal(unet.filter((n) => n.opType === 'Softmax' && /attn2\/Softmax$/.test(n.name ?? '')).length, 16);
  assert.ok(unet.some((n) => n.opType === 'Cast' && /attn2\/Cast/.test(n.name ?? '')), 'upcast_attention Casts in attn2');
  // GELU (erf) in the text encoder, not CLIP's quick_gelu (x * sigmoid(1.702 x)).
  const te = decodeModel(readFileSync(join(FIXTURE, 'text_encoder/model.onnx'))).graph!.node ?? [];
  assert.ok(te.some((n) => n.opType === 'Erf') && !te.some((n) => n.opType === 'Sigmoid'));

  const report = await checkCompatibility(copySd2Tiny());
  assert.ok(report.ok, JSON.stringify(report.checks));
  const detail = (part: string) => report.checks.find((c) => c.part === part)?.detail ?? '';
  assert.match(detail('scheduler'), /v_prediction prediction/);
  assert.match(detail('UNet cross-attention'), /16 cross-attention layers .*heads x head dim: (2x4|4x4|8x4)(, (2x4|4x4|8x4)){2}\)/);
});

test('sd2-tiny: the tokenizer pads with "!" (id 0), and the engine feeds those ids', async () => {
  const tokenizer = await ClipTokenizer.fromFolder(join(FIXTURE, 'tokenizer'));
  const vocab = readJson(join(FIXTURE, 'tokenizer/vocab.json'));
  assert.equal(vocab['!'], 0);
  assert.equal(tokenizer.padId, 0);
  assert.equal(tokenizer.endId, vocab['<|endoftext|>']);
  const t = tokenizer.encode('a photo of a cat');
  assert.equal(t.length, 7);
  assert.deepEqual(Array.from(t.ids.slice(0, 7)), [tokenizer.startId, ...['a', 'photo', 'of', 'a', 'cat'].map((w) => vocab[`${w}</w>`] as number), tokenizer.endId]);
  assert.ok(t.ids.slice(7).every((id) => id === 0), 'padded with "!"');
  assert.equal(t.ids.filter((id) => id === tokenizer.endId).length, 1, 'one end token');
  // A "!" written in the prompt is the word token "!</w>", not the padding.
  assert.equal(tokenizer.encode('a cat!').ids[3], vocab['!</w>']);
  // The pipeline encodes with that tokenizer: the padded positions see "!" embeddings, which differ from
  // what <|endoftext|> padding gives (the SD 1.x tokenizer's), so the choice reaches the UNet.
  const [bang] = (await pipeline.encodeText(['a cat'])).tokenized;
  assert.equal(bang.ids[5], 0);
  const te = await ort.InferenceSession.create(join(FIXTURE, 'text_encoder/model.onnx'));
  const run = async (ids: Int32Array) => (await te.run({ input_ids: new ort.Tensor('int32', ids, [1, TOKENS]) })).last_hidden_state.data as Float32Array;
  const endPadded = Int32Array.from(bang.ids, (id, i) => (i >= bang.length ? tokenizer.endId : id));
  const viaPipeline = (await pipeline.encodeText(['a cat'])).embeddings;
  assert.equal(maxAbsDiff(viaPipeline, await run(bang.ids)), 0);
  assert.ok(maxAbsDiff(viaPipeline, await run(endPadded)) > 1e-3);
});

test('sd2-tiny: 16 cross-attention layers with 2/4/8 heads of 4; instrumented = plain; per-head probs = softmax(q k^T / 2)', async () => {
  const inst = pipeline.instrumented;
  assert.equal(inst.perHead, true);
  checkLayers(inst.layers, 'float32');
  const text = await pipeline.encodeText(['', PROMPT]);
  const hidden = new ort.Tensor('float32', text.embeddings, text.dims);
  const feeds = {
    sample: new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * LATENT * LATENT }, (_, i) => Math.sin(i * 1.37 + 0.3)), [2, 4, LATENT, LATENT]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([981n, 1n]), [2]),
    encoder_hidden_states: hidden,
  };
  const plain = await ort.InferenceSession.create(join(dir, 'unet/model.onnx'));
  const expected = await plain.run(feeds);
  const keys = await loadOriginalKeys(inst);
  const keyFeeds = Object.fromEntries(inst.layers.map((l) => [l.keyInput, new ort.Tensor('float32', keys.get(l.name)!, [...l.keyShape])]));
  const got = await pipeline.unetSession.run({ ...feeds, ...keyFeeds }, ['out_sample', ...inst.layers.flatMap((l) => [l.probsOutput, l.queryOutput])]);
  const diff = maxAbsDiff(got.out_sample.data as Float32Array, expected.out_sample.data as Float32Array);
  assert.ok(diff <= 1e-5, `instrumented out_sample differs from the plain graph by ${diff}`);
  for (const l of inst.layers) {
    const grid = LATENT / EXPECTED_LAYERS[l.name];
    assert.deepEqual(got[l.probsOutput].dims, [2, l.heads, grid * grid, TOKENS], l.name);
    assert.deepEqual(got[l.queryOutput].dims, [2, l.heads, grid * grid, HEAD_DIM], l.name);
    const ref = recomputeProbs(l, got[l.queryOutput], text.embeddings, keys.get(l.name)!, 2, TOKENS);
    const pd = maxAbsDiff(got[l.probsOutput].data as Float32Array, ref);
    assert.ok(pd < 1e-4, `${l.name}: probabilities differ from softmax(q k^T / sqrt(d)) by ${pd}`);
  }
});

test('sd2-tiny: 64x64 and 128x64 images with every layer captured on its grid with its heads', async () => {
  const { out, steps } = await generateWithCaptures(pipeline, REQUEST);
  assert.deepEqual([out.image.width, out.image.height, out.image.data.length], [64, 64, 64 * 64 * 3]);
  assert.ok(new Set(out.image.data).size > 8, 'the decoded image is not flat');
  assert.deepEqual(out.timesteps, [501, 1]);
  checkCaptures(steps, out.timesteps, LATENT, LATENT);
  // Live maps: not uniform over the tokens, on the finest and on the coarsest grid.
  for (const layer of ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 'mid_block.attentions.0.transformer_blocks.0.attn2']) {
    const first = steps[0].find((c) => c.layer === layer)!.probs.slice(0, TOKENS);
    assert.ok(Math.max(...first) - Math.min(...first) > 1e-3, layer);
  }
  const wide = await generateWithCaptures(pipeline, { ...REQUEST, steps: 1, guidance: 1, size: { width: 128, height: 64 } });
  assert.deepEqual([wide.out.image.width, wide.out.image.height], [128, 64]);
  checkCaptures(wide.steps, wide.out.timesteps, LATENT, 2 * LATENT);
});

/** scaled_linear betas (SD): alpha_bar_t = prod_{s <= t} (1 - beta_s), beta_s = linspace(sqrt(0.00085), sqrt(0.012), 1000)_s^2. */
function sdAlphaBars(): Float64Array {
  const out = new Float64Array(1000);
  let prod = 1;
  for (let i = 0; i < 1000; i++) {
    const b = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999;
    prod *= 1 - b * b;
    out[i] = prod;
  }
  return out;
}

test("sd2-tiny: the pipeline's DDIM steps read the UNet output as v (v-prediction), as diffusers' DDIMScheduler does", async () => {
  assert.equal(pipeline.scheduler.config.predictionType, 'v_prediction');
  const request: GenerateRequest = { ...REQUEST, seed: 3, guidance: 1 }; // one UNet pass per step
  const out = await pipeline.generate(request);
  assert.deepEqual(out.timesteps, [501, 1]);

  // The same two steps by hand with the plain UNet and diffusers' DDIM formulas (eta 0, set_alpha_to_one false).
  const plain = await ort.InferenceSession.create(join(dir, 'unet/model.onnx'));
  const vae = await ort.InferenceSession.create(join(dir, 'vae_decoder/model.onnx'));
  const text = await pipeline.encodeText([request.prompt]);
  const hidden = new ort.Tensor('float32', text.embeddings, text.dims);
  const alphaBar = sdAlphaBars();
  const plane = 4 * LATENT * LATENT;
  const sampleBy = async (reading: 'v' | 'epsilon'): Promise<Uint8Array> => {
    let x = new Rng(request.seed).normals(plane);
    for (const t of [501, 1]) {
      const res = await plain.run({
        sample: new ort.Tensor('float32', x, [1, 4, LATENT, LATENT]),
        timestep: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]),
        encoder_hidden_states: hidden,
      });
      const m = res.out_sample.data as Float32Array;
      const prev = t - 500;
      const a = alphaBar[t];
      const aPrev = prev >= 0 ? alphaBar[prev] : alphaBar[0];
      x = Float32Array.from(x, (xi, i) => {
        // v: x0 = sqrt(a) x - sqrt(1-a) v, eps = sqrt(a) v + sqrt(1-a) x; epsilon: x0 = (x - sqrt(1-a) eps) / sqrt(a)
        const x0 = reading === 'v' ? Math.sqrt(a) * xi - Math.sqrt(1 - a) * m[i] : (xi - Math.sqrt(1 - a) * m[i]) / Math.sqrt(a);
        const eps = reading === 'v' ? Math.sqrt(a) * m[i] + Math.sqrt(1 - a) * xi : m[i];
        return Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps;
      });
    }
    const decoded = await vae.run({ latent_sample: new ort.Tensor('float32', x.map((v) => v / 0.18215), [1, 4, LATENT, LATENT]) });
    return tensorToRgb(decoded.sample.data as Float32Array, 64, 64).data;
  };
  const byV = await sampleBy('v');
  const byEpsilon = await sampleBy('epsilon');
  const vDiff = maxAbsDiff(out.image.data, byV);
  const epsDiff = maxAbsDiff(out.image.data, byEpsilon);
  console.log(`pipeline vs v reference: ${vDiff} levels; vs epsilon reading: ${epsDiff} levels`);
  assert.ok(vDiff <= 1, `the pipeline's image differs from the v-prediction reference by ${vDiff} levels`);
  assert.ok(epsDiff > 16, `the epsilon reading should give another image (max difference ${epsDiff} levels)`);
});

test('sd2-tiny: Separate-and-Enhance finetune on the 8x8 layers (2 heads of 4): the full gradient, 3 steps', async () => {
  const trainer = await SepEnTrainer.create(pipeline);
  const prepared = await trainer.prepare(TRAINING);
  assert.deepEqual(prepared[0].objects, [[3], [7]]); // start, a, red, cat, and, a, blue, dog
  const lossLayers = await trainer.lossLayers(prepared[0]);
  assert.deepEqual([lossLayers.gridH, lossLayers.gridW], [8, 8]);
  assert.deepEqual(
    lossLayers.layers.map((l) => l.name),
    ['down_blocks.0.attentions.0', 'down_blocks.0.attentions.1', 'up_blocks.3.attentions.0', 'up_blocks.3.attentions.1', 'up_blocks.3.attentions.2'].map(
      (b) => `${b}.transformer_blocks.0.attn2`,
    ),
  );
  assert.ok(lossLayers.layers.every((l) => l.heads === 2 && l.headDim === HEAD_DIM));

  // The gradient through the whole UNet, every key (heads and head dim taken right, v or not).
  const options = { ...defaultFinetuneOptions, x0Scale: x0ScaleFor(pipeline) };
  const batch = trainer.sampleBatch(prepared, new Rng(5), 0, { batch: 2, x0Scale: options.x0Scale });
  await checkDirectionalDerivative('sd2-tiny S&E loss', trainer, batch, lossLayers, options);

  const result = await trainer.train(TRAINING, { ...options, steps: 3, batch: 2, lr: 1e-3 });
  assert.equal(result.stopped, undefined);
  assert.equal(result.curve.length, 3);
  assert.ok(result.curve.every((s) => Number.isFinite(s.loss) && Number.isFinite(s.gradNorm) && s.gradNorm > 0));
  // The loss reads the last layers (up_blocks.3), so every key reaches it.
  assert.deepEqual(result.trainedLayers, pipeline.instrumented.layers.map((l) => l.name));
  const base = trainer.baseKeySet();
  for (const l of pipeline.instrumented.layers) {
    const moved = maxAbsDiff(result.keys.get(l.name)!, base.get(l.name)!);
    if (result.trainedLayers.includes(l.name)) assert.ok(moved > 0, `${l.name} was trained`);
    else assert.equal(moved, 0, `${l.name} is not trained`);
  }
  // The finetuned keys sample (the overlay path of generate).
  const tuned = await pipeline.generate({ ...REQUEST, keys: result.keys });
  assert.equal(tuned.image.width, 64);
});

test('sd2-tiny with float16 I/O (optimum --fp16): float16 inputs and outputs; generation and maps match fp32 within fp16 rounding', async () => {
  const fp16Dir = copySd2Tiny();
  const changed = MODELS.map((m) => fp16Io(modelPath(fp16Dir, m)));
  assert.deepEqual(changed, [['last_hidden_state', 'pooler_output'], ['sample', 'encoder_hidden_states', 'out_sample'], ['latent_sample', 'sample']]);
  await checkFloat16Io(fp16Dir);

  const fp16 = await Pipeline.load(await openModelFolder(fp16Dir));
  checkLayers(fp16.instrumented.layers, 'float32'); // the weights stay float32 behind the float16 edge
  // Inputs and outputs rounded to 11 significant bits at every step: measured 1 level in the image, probabilities
  // within 1e-3 at the first step and 5e-3 at the second (a peaked map, after one step of rounded latents).
  const { variant } = await checkCloseTo('fp16 I/O vs fp32', fp16, pipeline, REQUEST, { image: 3, probs: 2e-2 });
  checkCaptures(variant.steps, variant.out.timesteps, LATENT, LATENT);
  // The finetune feeds float16 samples and embeddings too.
  await checkFinetuneCloseTo(fp16, pipeline, TRAINING, REQUEST);
});

test('sd2-tiny traced in half precision (optimum --fp16 on CUDA): upcast attention scores in float32, float16 elsewhere; generation, maps and finetune close to fp32', async () => {
  const dir = copySd2Tiny();
  const kept = MODELS.map((m) => toHalfPrecisionExport(modelPath(dir, m)));
  // upcast_attention: q and k cast up before the scores in every attention (attn1 and attn2 of 16 blocks).
  assert.equal(kept[1].length, 1 + 2 * 2 * 16);
  assert.deepEqual(kept[1].filter((c) => c.includes('down_blocks.0/attentions.0/transformer_blocks.0/attn2/')), [
    '/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Cast_6',
    '/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Cast_7',
  ]);
  await checkFloat16Io(dir);
  const half = await Pipeline.load(await openModelFolder(dir));
  checkLayers(half.instrumented.layers, 'float16');
  // Measured: 3 levels, 8.3e-3 (the scores are float32, the queries and keys float16).
  const { variant } = await checkCloseTo('half-precision trace vs fp32', half, pipeline, REQUEST, { image: 8, probs: 3e-2 });
  checkCaptures(variant.steps, variant.out.timesteps, LATENT, LATENT);
  // Measured within 6e-5 of fp32 (relative) at both steps.
  await checkFinetuneCloseTo(half, pipeline, TRAINING, REQUEST);
});

test('sd2-tiny with float16 I/O and float16 weights (both of optimum --fp16): float16 keys, generation close to fp32', async () => {
  const fp16Dir = copySd2Tiny();
  for (const m of MODELS) {
    storeWeightsAsFp16(modelPath(fp16Dir, m));
    fp16Io(modelPath(fp16Dir, m));
  }
  const fp16 = await Pipeline.load(await openModelFolder(fp16Dir));
  checkLayers(fp16.instrumented.layers, 'float16');
  const { variant } = await checkCloseTo('fp16 I/O + weights vs fp32', fp16, pipeline, REQUEST, { image: 4, probs: 2e-2 });
  checkCaptures(variant.steps, variant.out.timesteps, LATENT, LATENT);
});
