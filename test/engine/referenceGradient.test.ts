// The engine's layer-local key gradient against the PyTorch reference (test/fixtures/gradients,
// made by models/tiny-shapes/reference/gradients.py): equal to torch's layer-local gradient, and
// how close both are to the full autograd gradient (the approximation method.md §4 asks to measure).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { defaultFinetuneOptions, SepEnTrainer } from '../../src/engine/finetune/trainer';
import { openModelFolder } from '../../src/engine/model/modelFolder';
import { loadOriginalKeys, transpose } from '../../src/engine/onnx/instrument';
import { Pipeline } from '../../src/engine/pipeline/pipeline';
import { decodeSafetensors } from '../../src/engine/safetensors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'gradients', 'tiny-shapes-sepen.safetensors');

interface Case {
  prompt: string;
  t: number;
  objects: number[][];
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('finetune gradient against the PyTorch reference', async () => {
  const fixture = decodeSafetensors(readFileSync(FIXTURE), FIXTURE, (name) => !/input_ids|timestep/.test(name));
  const cases = JSON.parse(fixture.metadata.cases) as Case[];
  const pipeline = await Pipeline.load(await openModelFolder(path.join(ROOT, 'models', 'tiny-shapes')));
  const trainer = await SepEnTrainer.create(pipeline);
  const layers = pipeline.instrumented.layers;
  const tensor = (name: string): Float32Array => {
    const t = fixture.tensors.get(name);
    assert.ok(t && t.data instanceof Float32Array, `fixture has ${name}`);
    return t.data as Float32Array;
  };
  // The fixture is only meaningful for the weights it was made from: the exported ONNX must hold them.
  const base = await loadOriginalKeys(pipeline.instrumented);
  const sameWeights = layers.every((l) => {
    const graph = base.get(l.name) as Float32Array;
    const torch = tensor(`${l.name}.to_k.weight`);
    return (l.keyTransposed ? transpose(torch, l.innerDim, l.textDim) : torch).every((v, i) => Math.abs(v - graph[i]) <= 1e-6);
  });
  const skip = sameWeights ? false : `fixture made for other weights (${fixture.metadata.weights}); regenerate it with models/tiny-shapes/reference/gradients.py`;

  test('matches torch to 1e-4 of the largest entry; reports the cosine with full autograd', { skip }, async () => {
    const lossLayers = await trainer.lossLayers((await trainer.prepare([{ text: 'a red circle and a blue square', objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 24, end: 30 }] }]))[0]);
    for (const [c, spec] of cases.entries()) {
      const sample = {
        prompt: { embedding: tensor(`case${c}.encoder_hidden_states`), objects: spec.objects },
        t: spec.t,
        xt: tensor(`case${c}.sample`),
      };
      const { grads } = await trainer.evaluate([sample], base, lossLayers, defaultFinetuneOptions);
      const report: string[] = [];
      for (const layer of lossLayers.layers) {
        const graph = grads.get(layer.name) as Float64Array;
        // Engine gradients come in the graph's layout; the fixture is torch's [inner, D].
        const engine = layer.keyTransposed ? transpose(Float32Array.from(graph), layer.textDim, layer.innerDim) : Float32Array.from(graph);
        const local = tensor(`case${c}.${layer.name}.grad_local`);
        const full = tensor(`case${c}.${layer.name}.grad_full`);
        const scale = local.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const worst = engine.reduce((m, v, i) => Math.max(m, Math.abs(v - local[i])), 0);
        assert.ok(worst <= 1e-4 * scale, `case ${c} ${layer.name}: max |engine - torch local| ${worst} > 1e-4 x ${scale}`);
        report.push(`${layer.name.split('.transformer')[0]} cos(engine, full) ${cosine(engine, full).toFixed(5)}`);
      }
      console.log(`case ${c} "${spec.prompt}" t=${spec.t}: ${report.join(' · ')}`);
    }
  });
});
