import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { foldedTarget, foldReshapes, shapeProbe, type ProbeRun } from '../../../src/engine/onnx/foldShapes';
import { DataType, decodeModel, encodeModel, tensorValueInfo, type ModelProto, type TensorProto } from '../../../src/engine/onnx/proto';

describe('foldedTarget', () => {
  it('keeps constant entries and writes a copied batch as 0', () => {
    assert.deepEqual(foldedTarget([[2, 24], [3, 24]], [[2, 4, 6], [3, 4, 6]]), [0, 24]);
    // diffusers' GroupNorm reshape back to [B, C, H, W] from [B, groups, C/groups*H*W]
    assert.deepEqual(foldedTarget([[1, 16, 8, 8], [2, 16, 8, 8]], [[1, 8, 128], [2, 8, 128]]), [0, 16, 8, 8]);
  });

  it('leaves the one entry that is no copy to be inferred (-1)', () => {
    // [B, heads, N, d] -> [B*heads, N, d]
    assert.deepEqual(foldedTarget([[2, 64, 8], [4, 64, 8]], [[1, 2, 64, 8], [2, 2, 64, 8]]), [-1, 64, 8]);
  });

  it('gives up where two entries would have to be inferred', () => {
    // batch and grid both vary: B*heads and H*W
    assert.equal(foldedTarget([[2, 64, 8], [4, 64, 8], [2, 256, 8]], [[1, 2, 64, 8], [2, 2, 64, 8], [1, 2, 256, 8]]), undefined);
    // the export's own -1 beside a varying entry
    assert.equal(foldedTarget([[4, -1], [6, -1]], [[2, 2, 3], [3, 2, 3]]), undefined);
  });

  it('gives up when the target rank changes between runs', () => {
    assert.equal(foldedTarget([[2, 24], [3, 4, 6]], [[2, 4, 6], [3, 4, 6]]), undefined);
  });
});

describe('foldReshapes on a graph run by onnxruntime', () => {
  const int64 = (name: string, values: number[]): TensorProto => ({ name, dims: [values.length], dataType: DataType.INT64, int64Data: values });

  /**
   * y = Reshape(x, [batch, 24]) * 2 with the batch read at run time (torch.onnx's Shape → Gather → Unsqueeze →
   * Concat), and z = Reshape(x, [batch, 4, 6] computed from `shape_only`, an input read for its shape alone).
   */
  function model(): ModelProto {
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'fold',
        input: [tensorValueInfo('x', ['batch', 4, 6]), tensorValueInfo('shape_only', ['batch', 4, 6])],
        output: [tensorValueInfo('y', ['batch', 24]), tensorValueInfo('z', ['batch', 4, 6])],
        initializer: [int64('zero', [0]), int64('flat', [24]), int64('rest', [4, 6]), { name: 'two', dims: [], dataType: DataType.FLOAT, floatData: [2] }],
        node: [
          { opType: 'Shape', input: ['x'], output: ['x_shape'] },
          { opType: 'Gather', input: ['x_shape', 'zero'], output: ['batch'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
          { opType: 'Concat', input: ['batch', 'flat'], output: ['target'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
          { opType: 'Reshape', name: 'flatten', input: ['x', 'target'], output: ['flat_x'] },
          { opType: 'Mul', input: ['flat_x', 'two'], output: ['y'] },
          { opType: 'Shape', input: ['shape_only'], output: ['other_shape'] },
          { opType: 'Gather', input: ['other_shape', 'zero'], output: ['other_batch'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
          { opType: 'Concat', input: ['other_batch', 'rest'], output: ['target_3d'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
          { opType: 'Reshape', name: 'unflatten', input: ['flat_x', 'target_3d'], output: ['z'] },
        ],
      },
    };
  }

  const feeds = (batch: number): Record<string, ort.Tensor> => {
    const x = Float32Array.from({ length: batch * 24 }, (_, i) => Math.sin(i));
    return { x: new ort.Tensor('float32', x, [batch, 4, 6]), shape_only: new ort.Tensor('float32', new Float32Array(batch * 24), [batch, 4, 6]) };
  };
  const session = (m: ModelProto): Promise<ort.InferenceSession> => ort.InferenceSession.create(encodeModel(m), { intraOpNumThreads: 1, logSeverityLevel: 3 });

  it('replaces computed targets by constants, drops the shape arithmetic and gives the same outputs at another batch', async () => {
    const original = model();
    const probe = shapeProbe(original);
    assert.equal(probe.reshapes.length, 2);
    const probeSession = await session(probe.model);
    const names = probe.reshapes.flatMap((r) => [r.target, r.inputShape]);
    const runs: ProbeRun[] = [];
    for (const batch of [1, 2]) {
      const out = await probeSession.run(feeds(batch), names);
      runs.push(Object.fromEntries(names.map((n) => [n, (out[n] as ort.Tensor).data as BigInt64Array])));
    }
    const folded = foldReshapes(original, probe, runs);
    assert.deepEqual([folded.folded, folded.kept], [2, 0]);
    const graph = decodeModel(encodeModel(folded.model)).graph!;
    assert.deepEqual((graph.node ?? []).map((n) => n.opType), ['Reshape', 'Mul', 'Reshape']);
    // The input read only for its shape stays declared, so callers' feeds still fit.
    assert.deepEqual((graph.input ?? []).map((v) => v.name), ['x', 'shape_only']);

    const [before, after] = [await session(original), await session(folded.model)];
    const [a, b] = [await before.run(feeds(3)), await after.run(feeds(3))];
    for (const name of ['y', 'z']) {
      assert.deepEqual((b[name] as ort.Tensor).dims, (a[name] as ort.Tensor).dims);
      assert.deepEqual(Array.from((b[name] as ort.Tensor).data as Float32Array), Array.from((a[name] as ort.Tensor).data as Float32Array));
    }
  });

  it('needs runs at two sizes', () => {
    const original = model();
    assert.throws(() => foldReshapes(original, shapeProbe(original), [{}]), /two or more input sizes/);
  });
});
