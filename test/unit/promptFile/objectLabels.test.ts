import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectLabels } from '../../../src/engine/promptFile';

test('object labels: the word where it is marked once, numbered in mark order where marks share it', () => {
  assert.deepEqual(objectLabels([]), []);
  assert.deepEqual(objectLabels([{ word: 'Circle' }, { word: 'square' }]), ['circle', 'square']);
  assert.deepEqual(objectLabels([{ word: 'circle' }, { word: 'square' }, { word: 'Circle' }, { word: 'traffic light' }, { word: 'circle' }]), [
    'circle #1',
    'square',
    'circle #2',
    'traffic light',
    'circle #3',
  ]);
});
