import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { combineGuidance } from '../../../src/engine/pipeline/guidance';
import { usesGuidance } from '../../../src/engine/promptFile/guidance';
import { queryGrid } from '../../../src/engine/pipeline/pipeline';

describe('pipeline math', () => {
  test('classifier-free guidance: uncond + g (cond - uncond)', () => {
    const uncond = Float32Array.from([1, 2]);
    const cond = Float32Array.from([3, 0]);
    assert.deepEqual([...combineGuidance(uncond, cond, 7.5)], [1 + 7.5 * 2, 2 - 7.5 * 2]);
    assert.deepEqual([...combineGuidance(uncond, cond, 1)], [3, 0]);
  });

  test('the unconditional pass runs above guidance 1 only (at 1 the combination is the prompt\'s own prediction)', () => {
    assert.deepEqual([0, 0.5, 1, 1.01, 7.5].map(usesGuidance), [false, false, false, true, true]);
  });

  test('query grids follow the sample aspect', () => {
    assert.deepEqual(queryGrid(256, 32, 32), [16, 16]);
    assert.deepEqual(queryGrid(64, 32, 32), [8, 8]);
    assert.deepEqual(queryGrid(4096 / 4, 64, 96 / 1.5), [32, 32]);
    assert.deepEqual(queryGrid(24, 64, 96), [4, 6]);
    assert.throws(() => queryGrid(7, 32, 32), /Cannot place 7 attention queries/);
  });
});
