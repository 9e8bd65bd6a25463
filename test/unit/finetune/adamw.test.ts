import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../../src/engine/finetune/adamw';
import { close, closeAll } from './helpers';

// Reference from torch 1.13 (float32 parameters), /usr/bin/python3:
//   p = [0.5, -1.25, 2.0, 0.0, 3.0]; q = [1.0, -2.0]
//   torch.optim.AdamW([p, q], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
//   three steps with the gradients below (q has no gradient at step 2: torch skips it).
const GRADS: [number[], number[] | undefined][] = [
  [[0.3, -0.7, 1e-3, 2.0, -5.0], [0.5, 0.25]],
  [[-0.1, -0.2, 0.0, 1.5, 4.0], undefined],
  [[0.05, 0.9, -1e-4, -2.0, 0.0], [-1.0, 3.0]],
];
const TORCH: [number[], number[]][] = [
  [[0.3995000123977661, -1.1487499475479126, 1.8980010747909546, -0.09999998658895493, 3.0969998836517334], [0.8990000486373901, -2.0980000495910645]],
  [[0.35907864570617676, -1.0627235174179077, 1.8290982246398926, -0.19815748929977417, 3.099715232849121], [0.8990000486373901, -2.0980000495910645]],
  [[0.3181770145893097, -1.070107340812683, 1.7820945978164673, -0.21732360124588013, 3.1011085510253906], [0.9347113966941833, -2.1756205558776855]],
];

test('AdamW follows torch.optim.AdamW step by step (decoupled decay, bias correction, skipped gradients)', () => {
  const p = Float32Array.from([0.5, -1.25, 2.0, 0.0, 3.0]);
  const q = Float32Array.from([1.0, -2.0]);
  const opt = new AdamW([p, q], { lr: 0.1 });
  GRADS.forEach(([gp, gq], i) => {
    opt.step([gp, gq]);
    closeAll(p, TORCH[i][0], 1e-6);
    closeAll(q, TORCH[i][1], 1e-6);
  });
  assert.equal(opt.state[0].step, 3);
  assert.equal(opt.state[1].step, 2);
});

test('first step by hand: decay, then a step of lr * sign(g) (bias-corrected m / sqrt(v) = g / |g|)', () => {
  const p = Float32Array.from([2, -3]);
  const opt = new AdamW([p], { lr: 1e-2, weightDecay: 0.5 });
  opt.step([[1e-3, -4]]);
  // p (1 - 0.01 * 0.5) - 0.01 * g / (|g| + eps)
  close(p[0], 2 * 0.995 - 0.01 * (1e-3 / (1e-3 + 1e-8)), 1e-7);
  close(p[1], -3 * 0.995 + 0.01, 1e-7);
  // Moments as torch keeps them.
  close(opt.state[0].expAvg[1], -0.4, 1e-15);
  close(opt.state[0].expAvgSq[1], 0.001 * 16, 1e-15);
});

test('zero gradient: only the weight decay acts', () => {
  const p = Float32Array.from([1, -2, 0.5]);
  const opt = new AdamW([p], { lr: 0.1 });
  opt.step([[0, 0, 0]]);
  closeAll(p, [0.999, -1.998, 0.4995], 1e-7);
});

test('rejects mismatched gradients and bad options', () => {
  const opt = new AdamW([new Float32Array(2)], { lr: 0.1 });
  assert.throws(() => opt.step([[1, 2, 3]]), /3 values/);
  assert.throws(() => opt.step([]), /0 gradients/);
  assert.throws(() => new AdamW([], { lr: -1 }), /learning rate/);
  assert.throws(() => new AdamW([], { lr: 1, betas: [1, 0.9] }), /betas/);
});
