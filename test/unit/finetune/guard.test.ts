import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivergenceGuard } from '../../../src/engine/finetune/guard';

test('non-finite loss or gradient stops the run with a reason', () => {
  const g = new DivergenceGuard();
  assert.equal(g.check(0.5, [Float64Array.from([1, 2])]), undefined);
  assert.match(g.check(NaN) ?? '', /step 1: loss is NaN/);
  assert.match(g.check(0.5, [new Float64Array(2), Float32Array.from([0, Infinity])]) ?? '', /step 2: gradient 1 has Infinity at index 1/);
});

test('a loss above 10x the median of the first steps trips; the reference is fixed after warm-up', () => {
  const g = new DivergenceGuard({ warmup: 3 });
  for (const l of [1.0, 0.8, 1.2]) assert.equal(g.check(l), undefined);
  // Reference median 1.0: later small losses do not move it.
  for (let i = 0; i < 10; i++) assert.equal(g.check(0.01), undefined);
  assert.equal(g.check(9.99), undefined);
  assert.match(g.check(10.5) ?? '', /exceeds 10x the median 1\.000 of the first 3 steps/);
});

test('during warm-up the running median is the reference; a zero median uses the floor', () => {
  const g = new DivergenceGuard({ factor: 4 });
  assert.equal(g.check(1), undefined);
  assert.match(g.check(5) ?? '', /exceeds 4x/);
  const z = new DivergenceGuard({ floor: 0.1 });
  assert.equal(z.check(0), undefined);
  assert.match(z.check(1.5) ?? '', /exceeds 10x the median 0\.1000/);
  assert.equal(z.check(0.9), undefined);
});
