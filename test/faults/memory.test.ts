// Case 7: `size: 8192x8192` on a model without a fixed size used to fail with an allocation failure
// after 1.3 GB. The attention and activation memory of a size and batch is now estimated first.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { InputError } from '../../src/engine/files/errors';
import { estimateSampleMemory, layerDownsampling, memoryProblem, sampleMemoryLimit } from '../../src/engine/run/memoryBudget';
import { runPromptSeeds } from '../../src/engine/run/runPrompt';
import { MODELS, SD_TINY, tempDir } from './helpers';

const block = (prefix: string): string => `${prefix}.attentions.0.transformer_blocks.0.attn2`;

describe('memory budget', () => {
  test("each layer's grid from its diffusers name (SD 1.x: down 1,2,4; mid 8; up 4,2,1); other names at full size", () => {
    const names = ['down_blocks.0', 'down_blocks.1', 'down_blocks.2', 'mid_block', 'up_blocks.1', 'up_blocks.2', 'up_blocks.3', 'transformer'].map(block);
    assert.deepEqual(layerDownsampling(names), [1, 2, 4, 8, 4, 2, 1, 1]);
  });

  test('the estimate adds the largest self-attention, every layer\'s maps and sums, and the widest activations', () => {
    const estimate = estimateSampleMemory({
      height: 8,
      width: 8,
      batch: 2,
      tokens: 3,
      layers: [
        { name: block('down_blocks.0'), heads: 2, innerDim: 4 },
        { name: block('up_blocks.1'), heads: 2, innerDim: 4 },
        { name: block('mid_block'), heads: 1, innerDim: 8 },
      ],
    });
    // Self-attention: 2 tensors × batch 2 × 2 heads × 64² queries × 4 bytes at the full grid.
    assert.equal(estimate.selfAttention, 2 * 2 * 2 * 64 * 64 * 4);
    // Maps [2, heads, queries, 3] twice (runtime and copy) plus the per-layer sums [heads, queries, 3].
    assert.equal(estimate.crossAttention, 2 * (2 * (2 * 2 * 64 * 3 * 4) + 2 * 64 * 3 * 4) + (2 * (2 * 1 * 16 * 3 * 4) + 16 * 3 * 4));
    assert.equal(estimate.activations, 8 * 2 * 4 * 64 * 4);
    assert.equal(estimate.bytes, estimate.selfAttention + estimate.crossAttention + estimate.activations);
    assert.equal(estimate.largestOutput, 2 * 2 * 64 * 3 * 4);
    assert.deepEqual(estimate.finestGrid, { height: 8, width: 8 });
    assert.equal(memoryProblem(estimate, { bytes: estimate.bytes, basis: 'test' }, 2 ** 32), undefined);
    assert.match(memoryProblem(estimate, { bytes: estimate.bytes - 1, basis: 'the test limit' }, 2 ** 32) ?? '', /needs about 0\.00 GiB .* more than the limit of 0\.00 GiB, the test limit$/);
    assert.match(memoryProblem(estimate, { bytes: estimate.bytes, basis: 'x' }, 1000) ?? '', /largest array this runtime holds/);
  });

  test('the limit is half of the memory given', () => {
    assert.deepEqual(sampleMemoryLimit(16 * 2 ** 30), { bytes: 8 * 2 ** 30, basis: "half of this computer's 16 GiB of memory" });
  });

  test('size: 8192x8192 on a model without a fixed size is refused before sampling, at the size line, with the estimate and the limit', async () => {
    const model = tempDir('sd-tiny');
    cpSync(SD_TINY, model, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') });
    const work = tempDir('big');
    const file = path.join(work, 'big.prompt');
    const text = `---\nmodel: ${model}\nsteps: 1\nsize: 8192x8192\n---\na photo of a [cat] and a [dog]\n`;
    writeFileSync(file, text);
    let steps = 0;
    await assert.rejects(
      runPromptSeeds({ file, text, runsDir: path.join(work, 'runs'), builtinModelsDir: MODELS, provider: 'cpu' }, new PipelineCache(), { onProgress: () => steps++ }),
      (e: Error) =>
        e instanceof InputError &&
        e.location?.line === 3 &&
        /^.*big\.prompt:4:7: size: 8192x8192 at batch 2 needs about .+ GiB for attention and activations \(self-attention alone .+ GiB at the 1024x1024 attention grid\), more than the limit of .+ GiB, half of this computer's .+ GiB of memory; choose a smaller size$/.test(e.message),
    );
    assert.equal(steps, 0);
  });
});
