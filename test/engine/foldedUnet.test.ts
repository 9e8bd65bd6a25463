/** The folded UNet graph of a small model: made once, reused, and the same pictures as the unfolded graph. */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { loadOriginalKeys } from '../../src/engine/onnx/instrument';
import { decodeModel } from '../../src/engine/onnx/proto';
import { foldedUnet } from '../../src/engine/pipeline/foldedUnet';
import { Pipeline } from '../../src/engine/pipeline/pipeline';
import { inputType, integerTensor, keyFeedsFor } from '../../src/engine/pipeline/tensors';

const ROOT = path.resolve(__dirname, '..', '..', '..');

for (const [name, folder, size, sampleDims] of [
  ['tiny-shapes (only the batch is dynamic)', path.join(ROOT, 'models', 'tiny-shapes'), undefined, [3, 32, 32]],
  ['sd-tiny (batch, height, width and text length dynamic)', path.join(ROOT, 'test', 'fixtures', 'sd-tiny'), { width: 128, height: 64 }, [4, 8, 16]],
] as const) {
  describe(`folded UNet graph: ${name}`, () => {
    let pipeline: Pipeline;
    let work: string;
    let keys: Record<string, ort.Tensor>;
    before(async () => {
      pipeline = await Pipeline.load(await openModelFolder(folder), { threads: 1 });
      keys = keyFeedsFor(pipeline.instrumented, await loadOriginalKeys(pipeline.instrumented));
      work = await mkdtemp(path.join(tmpdir(), 'prompt-lens-fold-'));
    });
    after(async () => {
      await pipeline.release();
      await rm(work, { recursive: true, force: true });
    });

    test('the pipeline runs the folded graph', () => {
      assert.match(pipeline.unetGraph.note, /^folded (\d+ of \d+ computed Reshape targets: \d+ → \d+ nodes|copy reused)$/);
      assert.notEqual(pipeline.unetGraph.path, pipeline.instrumented.path);
    });

    test('a copy is folded beside the graph once and then reused; it has fewer nodes', async () => {
      const graph = path.join(work, 'unet.onnx');
      await copyFile(pipeline.instrumented.path, graph);
      const request = { path: graph, keyFeeds: keys, latent: size !== undefined, sampleSize: pipeline.model.sampleSize, textLength: pipeline.tokenizer.maxLength, threads: 1 };
      const first = await foldedUnet(request);
      const counts = /: (\d+) → (\d+) nodes$/.exec(first.note);
      assert.ok(counts, first.note);
      assert.ok(Number(counts[2]) < Number(counts[1]));
      assert.equal(decodeModel(await readFile(first.path)).graph?.node?.length, Number(counts[2]));
      const again = await foldedUnet(request);
      assert.deepEqual(again, { path: first.path, note: 'folded copy reused' });
      assert.deepEqual((await readdir(work)).sort(), ['unet.onnx', path.basename(first.path)].sort());
    });

    test('UNet outputs at a batch and size of their own match the unfolded graph', async () => {
      const options = { intraOpNumThreads: 1, logSeverityLevel: 3 as const };
      const [original, folded] = [await ort.InferenceSession.create(pipeline.instrumented.path, options), await ort.InferenceSession.create(pipeline.unetGraph.path, options)];
      const [channels, height, width] = pipeline.sampleShape(size);
      assert.deepEqual([channels, height, width], sampleDims);
      const text = await pipeline.encodeText(['', 'a red circle', 'a blue square and a green triangle', 'a red circle and a blue square', '']);
      const batch = 5;
      const feeds = {
        sample: new ort.Tensor('float32', Float32Array.from({ length: batch * channels * height * width }, (_, i) => Math.cos(i * 0.1)), [batch, channels, height, width]),
        timestep: integerTensor(inputType(original, 'timestep'), new Array<number>(batch).fill(420), [batch]),
        encoder_hidden_states: new ort.Tensor('float32', text.embeddings, text.dims),
        ...keys,
      };
      const fetches = ['out_sample', pipeline.instrumented.layers[0].probsOutput];
      const [a, b] = [await original.run(feeds, fetches), await folded.run(feeds, fetches)];
      for (const out of fetches) {
        const [x, y] = [a[out] as ort.Tensor, b[out] as ort.Tensor];
        assert.deepEqual(y.dims, x.dims);
        const worst = (x.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - (y.data as Float32Array)[i])), 0);
        assert.ok(worst < 1e-4, `${out}: differs by ${worst}`);
      }
      await original.release();
      await folded.release();
    });
  });
}

