import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, aurocStandardError } from '../../../bench/auroc';

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test('auroc: perfect, reversed and interleaved groups', () => {
  close(auroc([3, 4], [1, 2]), 1);
  close(auroc([1, 2], [3, 4]), 0);
  // Pairs (positive, negative): (2,1) yes, (2,3) no, (4,1) yes, (4,3) yes -> 3/4.
  close(auroc([2, 4], [1, 3]), 0.75);
  // Unequal sizes: 5 beats 1, 2, 3; 0 beats none -> 3/6.
  close(auroc([5, 0], [1, 2, 3]), 0.5);
});

test('auroc: a tie between the groups counts one half, ties inside a group do not matter', () => {
  // (1,1) tie 0.5, (1,3) 0, (2,1) 1, (2,3) 0 -> 1.5/4.
  close(auroc([1, 2], [1, 3]), 0.375);
  close(auroc([2, 2], [1, 1, 3]), 4 / 6);
  close(auroc([7, 7], [7]), 0.5);
});

test('auroc: input order does not matter and an empty group gives NaN', () => {
  close(auroc([4, 2], [3, 1]), 0.75);
  assert.ok(Number.isNaN(auroc([], [1])));
  assert.ok(Number.isNaN(auroc([1], [])));
});

test('aurocStandardError: Hanley-McNeil by hand', () => {
  // a = 0.5: Q1 = Q2 = 1/3; (0.25 + 9 (1/3 - 1/4) + 39 (1/3 - 1/4)) / 400 = 4.25 / 400.
  close(aurocStandardError(0.5, 10, 40), Math.sqrt(4.25 / 400));
  // a = 0.75: Q1 = 0.6, Q2 = 9/14; (0.1875 + 0.0375 + (9/14 - 0.5625)) / 4.
  close(aurocStandardError(0.75, 2, 2), Math.sqrt((0.1875 + 0.0375 + (9 / 14 - 0.5625)) / 4));
});
