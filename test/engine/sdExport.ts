// Helpers shared by the tests of the Stable Diffusion-shaped fixtures (sd-tiny for 1.x, sd2-tiny for 2.x):
// the layers both families have, private fixture copies, fp16 weights by graph surgery, generation with its
// attention captures, and attention recomputed from the exposed queries.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CrossAttentionLayer } from '../../src/engine/onnx/instrument';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor, type TrainingPrompt } from '../../src/engine/finetune/trainer';
import type { AttentionCapture, GenerateRequest, Pipeline } from '../../src/engine/pipeline/pipeline';
import { AttrType, DataType, decodeModel, encodeModel, type NodeProto } from '../../src/engine/onnx/proto';
import { float32Data } from '../../src/engine/pipeline/tensors';
import { floatsToHalfs } from '../../src/engine/safetensors/f16';

/** The 16 attn2 layers of SD 1.x and 2.x (layers_per_block 2) and the factor their query grid is below the latent's. */
export const SD_CROSS_ATTENTION_LAYERS: Readonly<Record<string, number>> = (() => {
  const out: Record<string, number> = {};
  for (const b of [0, 1, 2]) for (const j of [0, 1]) out[`down_blocks.${b}.attentions.${j}.transformer_blocks.0.attn2`] = 2 ** b;
  out['mid_block.attentions.0.transformer_blocks.0.attn2'] = 8;
  for (const b of [1, 2, 3]) for (const j of [0, 1, 2]) out[`up_blocks.${b}.attentions.${j}.transformer_blocks.0.attn2`] = 2 ** (3 - b);
  return out;
})();

/** The three graphs of an Optimum Stable Diffusion folder, each at `<name>/model.onnx`. */
export const SD_MODELS = ['text_encoder', 'unet', 'vae_decoder'] as const;

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A private copy of a fixture folder, removed after the tests: instrumentation writes its cache beside the UNet. */
export function copyFixture(fixture: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  cpSync(fixture, dir, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') });
  return dir;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `name:type` of a graph's inputs and outputs as onnxruntime reads them. */
export async function declaredTypes(path: string): Promise<string[]> {
  const session = await ort.InferenceSession.create(path);
  return [...session.inputMetadata, ...session.outputMetadata].map((x) => `${x.name}:${x.isTensor ? x.type : '?'}`);
}

/** The inputs and outputs optimum-cli --fp16 declares: every float one float16, the token ids and timestep integers. */
export async function checkFloat16Io(dir: string): Promise<void> {
  const at = (m: (typeof SD_MODELS)[number]) => join(dir, m, 'model.onnx');
  assert.deepEqual(await declaredTypes(at('text_encoder')), ['input_ids:int32', 'last_hidden_state:float16', 'pooler_output:float16']);
  assert.deepEqual(await declaredTypes(at('unet')), ['sample:float16', 'timestep:int64', 'encoder_hidden_states:float16', 'out_sample:float16']);
  assert.deepEqual(await declaredTypes(at('vae_decoder')), ['latent_sample:float16', 'sample:float16']);
}

/** A generation and every step's captures (copied: a capture's probs are a view valid during the callback only). */
export async function generateWithCaptures(pipeline: Pipeline, request: GenerateRequest) {
  const steps: AttentionCapture[][] = [];
  const out = await pipeline.generate(request, { onAttention: (captures) => steps.push(captures.map((c) => ({ ...c, probs: c.probs.slice() }))) });
  return { out, steps };
}

/** Largest difference between two runs' attention probabilities, over every step and layer. */
export function maxCaptureDiff(a: AttentionCapture[][], b: AttentionCapture[][]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (const [i, captures] of a.entries()) for (const c of captures) m = Math.max(m, maxAbsDiff(c.probs, b[i].find((x) => x.layer === c.layer)!.probs));
  return m;
}

/** How far a variant of a model may sample from the float32 model: image levels, attention probabilities. */
export interface Fp32Bounds {
  image: number;
  probs: number;
}

/**
 * The same request on a variant (fp16 forms, another provider) and on the reference pipeline: the image and every
 * step's attention probabilities apart by at most `bounds`, printed. Returns both runs.
 */
export async function checkCloseTo(label: string, variant: Pipeline, reference: Pipeline, request: GenerateRequest, bounds: Fp32Bounds) {
  const [a, b] = [await generateWithCaptures(variant, request), await generateWithCaptures(reference, request)];
  const imageDiff = maxAbsDiff(a.out.image.data, b.out.image.data);
  const probsDiff = maxCaptureDiff(a.steps, b.steps);
  console.log(`${label}: image ${imageDiff} levels, attention probabilities ${probsDiff.toExponential(2)}`);
  assert.ok(imageDiff <= bounds.image && probsDiff <= bounds.probs, `${label}: image ${imageDiff} levels, probabilities ${probsDiff}`);
  return { variant: a, reference: b };
}

/** Two finetune steps on a variant and on the float32 model: the loss curves within 1%, and the variant's keys change its image. */
export async function checkFinetuneCloseTo(variant: Pipeline, reference: Pipeline, training: TrainingPrompt[], request: GenerateRequest): Promise<void> {
  const options = { ...defaultFinetuneOptions, x0Scale: x0ScaleFor(variant), steps: 2, batch: 2, lr: 1e-3 };
  const tuned = await (await SepEnTrainer.create(variant)).train(training, options);
  const tunedReference = await (await SepEnTrainer.create(reference)).train(training, options);
  assert.equal(tuned.curve.length, 2);
  for (const [i, s] of tuned.curve.entries()) {
    const ref = tunedReference.curve[i].loss;
    assert.ok(Math.abs(s.loss - ref) <= 1e-2 * Math.abs(ref), `step ${i}: loss ${s.loss} vs ${ref}`);
  }
  for (const l of variant.instrumented.layers) assert.equal(tuned.keys.get(l.name)!.length, l.keyShape[0] * l.keyShape[1], l.name);
  const [before, after] = [await variant.generate(request), await variant.generate({ ...request, keys: tuned.keys })];
  assert.ok(maxAbsDiff(after.image.data, before.image.data) > 0, 'the finetuned keys change the image');
}

/** Every float32 initializer with more than one element stored as FLOAT16 behind a Cast (prompt_lens_py.fixtures.sd_fixture --fp16). */
export function storeWeightsAsFp16(path: string): void {
  const model = decodeModel(readFileSync(path));
  const graph = model.graph!;
  const casts: NodeProto[] = [];
  for (const t of graph.initializer ?? []) {
    const raw = t.rawData;
    if (t.dataType !== DataType.FLOAT || !raw || raw.length <= 4) continue;
    const copy = new Uint8Array(raw.length); // protobufjs hands out Buffer views into the file; Buffer.slice does not copy
    copy.set(raw);
    const name = t.name!;
    t.name = `${name}__fp16`;
    t.dataType = DataType.FLOAT16;
    t.rawData = new Uint8Array(floatsToHalfs(new Float32Array(copy.buffer)).buffer);
    casts.push({ opType: 'Cast', name: `/fp16_weights/Cast_${casts.length}`, input: [t.name], output: [name], attribute: [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }] });
  }
  graph.node = [...casts, ...(graph.node ?? [])];
  writeFileSync(path, encodeModel(model));
}

/**
 * softmax(q k^T / sqrt(d)) per head, in float64, from a layer's exposed queries [B, heads, Nq, d] and the keys
 * e W_k^T: [B, heads, Nq, T]. `key` is in the graph's layout (W_k^T [text, inner] when keyTransposed).
 */
export function recomputeProbs(layer: CrossAttentionLayer, query: ort.Tensor, hidden: Float32Array, key: Float32Array, batch: number, tokens: number): Float32Array {
  const { heads, headDim, innerDim, textDim } = layer;
  const nq = query.dims[2];
  const q = float32Data(query, 'query');
  const wk = (c: number, d: number) => (layer.keyTransposed ? key[d * innerDim + c] : key[c * textDim + d]);
  const keys = new Float64Array(batch * tokens * innerDim);
  for (let b = 0; b < batch; b++) for (let t = 0; t < tokens; t++) for (let c = 0; c < innerDim; c++) {
    let s = 0;
    for (let d = 0; d < textDim; d++) s += hidden[(b * tokens + t) * textDim + d] * wk(c, d);
    keys[(b * tokens + t) * innerDim + c] = s;
  }
  const out = new Float32Array(batch * heads * nq * tokens);
  const row = new Float64Array(tokens);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < nq; i++) {
    let max = -Infinity;
    for (let t = 0; t < tokens; t++) {
      let s = 0;
      for (let d = 0; d < headDim; d++) s += q[((b * heads + h) * nq + i) * headDim + d] * keys[(b * tokens + t) * innerDim + h * headDim + d];
      row[t] = s / Math.sqrt(headDim);
      max = Math.max(max, row[t]);
    }
    let sum = 0;
    for (let t = 0; t < tokens; t++) sum += (row[t] = Math.exp(row[t] - max));
    for (let t = 0; t < tokens; t++) out[((b * heads + h) * nq + i) * tokens + t] = row[t] / sum;
  }
  return out;
}

/** [B, heads, N, T] -> [B, N, T], the head mean (what a head-averaged probabilities output holds). */
export function meanOverHeads(perHead: Float32Array, batch: number, heads: number, n: number, tokens: number): Float32Array {
  const out = new Float32Array(batch * n * tokens);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < n * tokens; i++) out[b * n * tokens + i] += perHead[(b * heads + h) * n * tokens + i] / heads;
  return out;
}
