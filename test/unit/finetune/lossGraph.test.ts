// The in-graph S&E loss (lossGraph.ts) against the JavaScript one (objectMaps + sepEnLossAndGrad, keepHeads) on
// random probabilities fed as graph inputs: each sample's terms, the batch loss, and dL/dP through the autodiff rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { gaussianSmooth3x3 } from '../../../src/engine/attention/smoothing';
import { differentiate, gradName } from '../../../src/engine/autodiff';
import { objectSelection, SEP_EN, smoothingMatrix, withSepEnLoss } from '../../../src/engine/finetune/lossGraph';
import { sepEnLossAndGrad } from '../../../src/engine/finetune/lossGradients';
import { mapGradToProbs, objectMaps } from '../../../src/engine/finetune/mapGradients';
import { DataType, encodeModel, type ModelProto } from '../../../src/engine/onnx/proto';
import { rng, uniform } from './helpers';

const [B, HEADS, HEIGHT, WIDTH, T] = [2, 2, 4, 5, 6];
const N = HEIGHT * WIDTH;
const LAYERS = ['p0', 'p1'];
/** Three objects per sample, one of them two tokens. */
const OBJECTS = [[[1], [2, 3], [4]], [[5], [1], [2]]];
const WEIGHTS = { separate: 1, enhance: 0.5 };
const OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };

/** Rows of T positive entries summing to 1, as a softmax gives: [B, HEADS, N, T] per layer. */
function probabilities(seed: number): Float32Array {
  const next = rng(seed);
  const p = Float32Array.from(uniform(B * HEADS * N * T, 0.05, 1, next));
  for (let r = 0; r < p.length; r += T) {
    const row = p.subarray(r, r + T);
    const sum = row.reduce((a, v) => a + v, 0);
    row.forEach((v, i) => (row[i] = v / sum));
  }
  return p;
}

/** A graph with the layers' probabilities as inputs and nothing else, then the loss. */
function lossModel(opset: number): ModelProto {
  const dims = [B, HEADS, N, T].map((d) => ({ dimValue: d }));
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'loss', node: [], input: LAYERS.map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims } } } })), output: [] },
  };
  return withSepEnLoss(model, { layers: LAYERS.map((probsOutput) => ({ probsOutput, heads: HEADS })), height: HEIGHT, width: WIDTH, ...WEIGHTS });
}

function closeTo(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

describe('the S&E loss in the graph', () => {
  const probs = LAYERS.map((_, l) => probabilities(l + 1));
  const feeds: Record<string, ort.Tensor> = Object.fromEntries(LAYERS.map((name, l) => [name, new ort.Tensor('float32', probs[l], [B, HEADS, N, T])]));
  feeds[SEP_EN.objects] = objectSelection(OBJECTS, LAYERS.length, T);
  const js = OBJECTS.map((objects, b) => {
    const size = HEADS * N * T;
    const layout = { height: HEIGHT, width: WIDTH, tokens: T, objects, keepHeads: true };
    const loss = sepEnLossAndGrad(objectMaps(probs.map((p) => ({ heads: HEADS, probs: p.subarray(b * size, (b + 1) * size) })), layout), WEIGHTS);
    return { loss, dProbs: mapGradToProbs(loss.grad.map((g) => g / B), LAYERS.map(() => HEADS), layout) };
  });

  test('the smoothing matrix is gaussianSmooth3x3', () => {
    const map = uniform(N, -1, 1, rng(9));
    const g = smoothingMatrix(HEIGHT, WIDTH);
    const expected = gaussianSmooth3x3(map, 1, HEIGHT, WIDTH);
    for (let p = 0; p < N; p++) {
      const smoothed = map.reduce((sum, v, q) => sum + g[p * N + q] * v, 0);
      assert.ok(Math.abs(smoothed - expected[p]) <= 1e-15, `pixel ${p}: ${smoothed} vs ${expected[p]}`);
    }
  });

  test('the object selection averages each object over its tokens and the layers', () => {
    const s = objectSelection(OBJECTS, 2, T).data as Float32Array;
    // Sample 0, token 2: the second of object 1's two tokens, over 2 layers.
    assert.equal(s[(0 * T + 2) * 3 + 1], Math.fround(1 / 4));
    assert.equal(s[(1 * T + 5) * 3 + 0], Math.fround(1 / 2));
    assert.equal(s.filter((v) => v !== 0).length, 7);
    assert.throws(() => objectSelection([[[1], [2]], [[1], [2], [3]]], 1, T), /same number of objects/);
  });

  for (const opset of [17, 18]) {
    test(`opset ${opset}: each sample's L_sep and L_en, and the batch loss, are the JavaScript loss's`, async () => {
      const session = await ort.InferenceSession.create(encodeModel(lossModel(opset)), OPTIONS);
      const out = await session.run(feeds);
      await session.release();
      js.forEach(({ loss }, b) => {
        closeTo((out[SEP_EN.separate].data as Float32Array)[b], loss.separate, 1e-6, `sample ${b} L_sep`);
        closeTo((out[SEP_EN.enhance].data as Float32Array)[b], loss.enhance, 1e-6, `sample ${b} L_en`);
      });
      assert.deepEqual(out[SEP_EN.loss].dims, []);
      closeTo((out[SEP_EN.loss].data as Float32Array)[0], js.reduce((sum, { loss }) => sum + loss.total / B, 0), 1e-6, 'batch loss');
    });
  }

  test("dL/dP of the loss's gradient model is the JavaScript dL/dM scattered by mapGradToProbs", async () => {
    const gradient = await differentiate(lossModel(17), { wrt: LAYERS, seeds: [SEP_EN.loss], keep: [SEP_EN.loss] }, async (probe, outputs) => {
      const session = await ort.InferenceSession.create(encodeModel(probe), OPTIONS);
      const result = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]])), outputs);
      await session.release();
      return Object.fromEntries(outputs.map((o) => [o, result[o].data as ArrayLike<number | bigint>]));
    });
    const session = await ort.InferenceSession.create(encodeModel(gradient.model), OPTIONS);
    const out = await session.run({ ...feeds, [gradName(SEP_EN.loss)]: new ort.Tensor('float32', Float32Array.of(1), []) });
    await session.release();
    LAYERS.forEach((name, l) => {
      const expected = new Float64Array(B * HEADS * N * T);
      js.forEach(({ dProbs }, b) => expected.set(dProbs[l], b * dProbs[l].length));
      const actual = out[gradName(name)].data as Float32Array;
      const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const worst = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
      assert.ok(scale > 0 && worst <= 1e-6 * scale, `${name}: largest error ${worst} against largest entry ${scale}`);
    });
  });
});
