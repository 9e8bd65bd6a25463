/** Seeds and prompts batched into one UNet call per step make what each request makes alone. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { Pipeline, type AttentionCapture, type GenerateRequest } from '../../src/engine/pipeline/pipeline';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function maxLevelDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** The last step's first-layer maps, copied out of the callback (its views are valid only there). */
function lastMaps(sink: Map<number, Float32Array>, item: number) {
  return (captures: AttentionCapture[]): void => {
    sink.set(item, Float32Array.from(captures[0].probs));
  };
}

for (const [name, folder, size] of [
  ['tiny-shapes', path.join(ROOT, 'models', 'tiny-shapes'), undefined],
  ['sd-tiny (latent, VAE decoder)', path.join(ROOT, 'test', 'fixtures', 'sd-tiny'), { width: 64, height: 64 }],
] as const) {
  describe(`batched generation: ${name}`, () => {
    let pipeline: Pipeline;
    before(async () => {
      pipeline = await Pipeline.load(await openModelFolder(folder));
    });
    after(() => pipeline.release());

    test('each request of a batch comes out as it does alone: image and attention', async () => {
      const base = { negativePrompt: '', steps: 4, eta: 0, ...(size ? { size } : {}) };
      const requests: GenerateRequest[] = [
        { ...base, prompt: 'a red circle and a blue square', seed: 3, guidance: 2 },
        { ...base, prompt: 'a green triangle', seed: 11, guidance: 4 },
        { ...base, prompt: 'a red circle and a blue square', seed: 12, guidance: 2 },
      ];
      const batchedMaps = new Map<number, Float32Array>();
      const batched = await pipeline.generateBatch(requests, { onAttention: (item, captures) => lastMaps(batchedMaps, item)(captures) });
      for (const [item, request] of requests.entries()) {
        const aloneMaps = new Map<number, Float32Array>();
        const alone = await pipeline.generate(request, { onAttention: lastMaps(aloneMaps, 0) });
        assert.ok(maxLevelDiff(batched[item].image.data, alone.image.data) <= 1, `request ${item}: image`);
        const [x, y] = [batchedMaps.get(item) as Float32Array, aloneMaps.get(0) as Float32Array];
        assert.equal(x.length, y.length);
        assert.ok(x.every((v, i) => Math.abs(v - y[i]) < 1e-4), `request ${item}: attention`);
        assert.deepEqual(batched[item].tokenized.ids, alone.tokenized.ids);
      }
      // Different seeds give different images (the batch does not share one noise).
      assert.ok(maxLevelDiff(batched[0].image.data, batched[2].image.data) > 10);
    });

    test('requests that cannot share a UNet call are refused', async () => {
      const request: GenerateRequest = { prompt: 'a red circle', negativePrompt: '', seed: 1, steps: 2, guidance: 2, eta: 0, ...(size ? { size } : {}) };
      await assert.rejects(pipeline.generateBatch([request, { ...request, steps: 3 }]), /must share steps/);
      await assert.rejects(pipeline.generateBatch([request, { ...request, guidance: 1 }]), /whether they use guidance/);
    });
  });
}

test('batch limit: small samples batch, large ones do not', async () => {
  const pipeline = await Pipeline.load(await openModelFolder(path.join(ROOT, 'models', 'tiny-shapes')));
  assert.equal(pipeline.batchLimit(), 8);
  await pipeline.release();
});
