import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median } from '../../../bench/stats';

test('median: the middle value, or the mean of the two middle ones; input order and the input array untouched', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  const values = [5, 1, 4];
  assert.equal(median(values), 4);
  assert.deepEqual(values, [5, 1, 4]);
});
