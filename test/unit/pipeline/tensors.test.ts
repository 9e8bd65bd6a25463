import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { float32Data, floatTensor, integerTensor } from '../../../src/engine/pipeline/tensors';
import { floatsToHalfs } from '../../../src/engine/safetensors';

/** Just the metadata the helpers read, as an fp16 export (optimum --fp16) declares it. */
const fp16Session = {
  inputNames: ['sample', 'timestep'],
  inputMetadata: [
    { name: 'sample', isTensor: true, type: 'float16', shape: [1, 4] },
    { name: 'timestep', isTensor: true, type: 'int64', shape: [1] },
  ],
} as unknown as ort.InferenceSession;

describe('tensors at the graph boundary', () => {
  test('float inputs follow the declared type; fp16 outputs widen to float32', () => {
    const values = Float32Array.from([0.5, -2, 1024, 0.1]);
    const half = floatTensor(fp16Session, 'sample', values, [1, 4]);
    assert.equal(half.type, 'float16');
    const back = float32Data(half, 'sample');
    assert.deepEqual([...back.slice(0, 3)], [0.5, -2, 1024]);
    assert.ok(Math.abs(back[3] - 0.1) < 1e-4, 'fp16 rounding only');
    assert.deepEqual([...(float32Data(new ort.Tensor('float16', floatsToHalfs(values), [4]), 'x') ?? [])].slice(0, 2), [0.5, -2]);
  });

  test('integer inputs in the declared type; unknown names and types are clear errors', () => {
    const t = integerTensor('int64', [981, 961], [2]);
    assert.deepEqual([...(t.data as BigInt64Array)], [981n, 961n]);
    assert.throws(() => floatTensor(fp16Session, 'latent', new Float32Array(1), [1]), /no input named "latent" \(inputs: sample, timestep\)/);
    assert.throws(() => float32Data(new ort.Tensor('int32', new Int32Array(1), [1]), 'ids'), /"ids" is int32; expected float32 or float16/);
    assert.throws(() => float32Data(undefined, 'out_sample'), /produced no output "out_sample"/);
  });
});
