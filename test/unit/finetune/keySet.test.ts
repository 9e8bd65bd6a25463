import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { encodeKeySet, KeySetError, loadKeySet } from '../../../src/engine/finetune/keySet';
import type { CrossAttentionLayer } from '../../../src/engine/onnx/instrument';
import { decodeSafetensors } from '../../../src/engine/safetensors';

const layer = (name: string, keyTransposed: boolean): CrossAttentionLayer => ({
  name,
  probsOutput: `p.${name}`,
  queryOutput: `q.${name}`,
  keyInput: `k.${name}`,
  keyShape: keyTransposed ? [3, 2] : [2, 3],
  keyDtype: 'float32',
  keyTransposed,
  heads: 1,
  headDim: 2,
  innerDim: 2,
  textDim: 3,
});

const LAYERS = [layer('down.attn2', true), layer('up.attn2', false)];
const MODEL = { id: 'tiny', hash: 'abc123' };
const base = new Map([
  ['down.attn2', Float32Array.from([1, 2, 3, 4, 5, 6])],
  ['up.attn2', Float32Array.from([7, 8, 9, 10, 11, 12])],
]);
const info = { baseModelId: 'tiny', baseModelHash: 'abc123', prompts: ['a [x] and a [y]'], trainedLayers: ['down.attn2'], steps: 3, lr: 1e-4, curve: [] };

describe('finetuned key sets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyset-'));
  const trained = new Map(base);
  trained.set('down.attn2', Float32Array.from([1.5, 2, 3, 4, 5, 6.5]));

  test('are stored with diffusers names in torch layout, trained layers only', () => {
    const file = decodeSafetensors(encodeKeySet(trained, LAYERS, info));
    assert.deepEqual([...file.tensors.keys()], ['down.attn2.to_k.weight']);
    const t = file.tensors.get('down.attn2.to_k.weight');
    assert.deepEqual(t?.shape, [2, 3]);
    // Graph layout W^T [3, 2] = [[1.5, 2], [3, 4], [5, 6.5]] -> torch [2, 3] = [[1.5, 3, 5], [2, 4, 6.5]].
    assert.deepEqual([...(t?.data ?? [])], [1.5, 3, 5, 2, 4, 6.5]);
    assert.equal(file.metadata.base_model_hash, 'abc123');
  });

  test('load back as an overlay on the base keys', async () => {
    const file = path.join(dir, 'keys.safetensors');
    writeFileSync(file, encodeKeySet(trained, LAYERS, info));
    const { keys, info: loaded } = await loadKeySet(file, base, LAYERS, MODEL);
    assert.deepEqual([...(keys.get('down.attn2') ?? [])], [1.5, 2, 3, 4, 5, 6.5]);
    assert.deepEqual([...(keys.get('up.attn2') ?? [])], [7, 8, 9, 10, 11, 12]);
    assert.deepEqual(loaded.prompts, info.prompts);
    assert.deepEqual([...(base.get('down.attn2') ?? [])], [1, 2, 3, 4, 5, 6], 'the base keys are untouched');
  });

  test('a key set of another base model is refused, naming both', async () => {
    const file = path.join(dir, 'other.safetensors');
    writeFileSync(file, encodeKeySet(trained, LAYERS, { ...info, baseModelId: 'sd15', baseModelHash: 'fff' }));
    await assert.rejects(
      loadKeySet(file, base, LAYERS, MODEL),
      (e: Error) => e instanceof KeySetError && /other\.safetensors was finetuned from sd15 \(fingerprint fff\), not from tiny \(fingerprint abc123\)/.test(e.message),
    );
  });

  test('a file that is not a key set, or is missing, is refused with its name', async () => {
    await assert.rejects(loadKeySet(path.join(dir, 'missing.safetensors'), base, LAYERS, MODEL), /Cannot read the key set .*missing\.safetensors/);
  });
});
