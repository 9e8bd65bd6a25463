import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discordant, mcnemarExact } from '../../../bench/mcnemar';

const close = (actual: number, expected: number, tol = 1e-12): void => assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);

test('mcnemarExact: known binomial values', () => {
  close(mcnemarExact(0, 0), 1);
  // n = 5, k = 0: 2 * 1/32
  close(mcnemarExact(5, 0), 2 / 32);
  close(mcnemarExact(0, 5), 2 / 32);
  // n = 10, k = 2: 2 * (1 + 10 + 45) / 1024
  close(mcnemarExact(8, 2), (2 * 56) / 1024);
  // balanced: capped at 1
  close(mcnemarExact(3, 3), 1);
  // n = 20, k = 5: 2 * (1 + 20 + 190 + 1140 + 4845 + 15504) / 2^20 (R: binom.test(5, 20)$p.value = 0.04138947)
  close(mcnemarExact(15, 5), 0.041389465, 1e-9);
});

test('mcnemarExact: large counts stay finite and tiny', () => {
  const p = mcnemarExact(900, 100);
  assert.ok(p > 0 && p < 1e-100, `p = ${p}`);
  close(mcnemarExact(500, 500), 1);
  // n = 4000: 2^-4000 underflows, the log-sum-exp does not
  // (normal approximation with continuity correction: z = 19 / sqrt(4000), p = 0.764)
  close(mcnemarExact(1990, 2010), 0.764, 5e-3);
  assert.ok(mcnemarExact(2100, 1900) > 0 && mcnemarExact(2100, 1900) < 0.01);
});

test('discordant: counts gained and lost pairs only', () => {
  assert.deepEqual(discordant([false, false, true, true], [true, false, false, true]), { gained: 1, lost: 1 });
  assert.throws(() => discordant([true], []), /differ in length/);
});
