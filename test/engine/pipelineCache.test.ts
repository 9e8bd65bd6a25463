/** The pipeline cache keeps one pipeline loaded and releases the one it replaces (an SD pipeline holds GBs). */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import type { GenerateRequest } from '../../src/engine/pipeline/pipeline';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TINY_SHAPES = path.join(ROOT, 'models', 'tiny-shapes');
const SD_TINY = path.join(ROOT, 'test', 'fixtures', 'sd-tiny');
const REQUEST: GenerateRequest = { prompt: 'a red circle', negativePrompt: '', seed: 1, steps: 1, guidance: 2, eta: 0 };

test('one pipeline at a time: reused for the same model and provider, released when another is asked for', async () => {
  const loaded: string[] = [];
  const graphs: string[] = [];
  const cache = new PipelineCache({
    onDidLoad: (info) => {
      loaded.push(`${info.modelId}/${info.provider}`);
      graphs.push(info.unetGraph);
    },
  });
  const shapes = await cache.get(TINY_SHAPES, 'cpu');
  assert.equal(await cache.get(TINY_SHAPES, 'cpu'), shapes, 'reused');
  assert.equal((await shapes.generate(REQUEST)).image.width, 32);

  const sd = await cache.get(SD_TINY, 'cpu');
  assert.deepEqual(loaded, ['tiny-shapes/cpu', 'sd-tiny/cpu']);
  // Both are small: each runs its folded UNet graph, and the load says so (the editor logs it).
  for (const graph of graphs) assert.match(graph, /^folded /);
  // Released in the background: its sessions refuse to run once onnxruntime has freed them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(shapes.generate(REQUEST));
  assert.equal((await sd.generate({ ...REQUEST, size: { width: 64, height: 64 } })).image.width, 64);

  // Back to the first model: loaded again, not the released one.
  const again = await cache.get(TINY_SHAPES, 'cpu');
  assert.notEqual(again, shapes);
  assert.equal((await again.generate(REQUEST)).image.width, 32);
  // Disposed with the extension: the loaded pipeline is released too.
  cache.dispose();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(again.generate(REQUEST));
});
