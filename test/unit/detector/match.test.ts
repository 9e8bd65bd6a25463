import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RequestedObject } from '../../../src/engine/detector/caption';
import { type Detected, assignDetections, maxWeightAssignment, pairStatus } from '../../../src/engine/detector/match';

const req = (colour: RequestedObject['colour'], shape: RequestedObject['shape']): RequestedObject =>
  colour === undefined ? { shape } : { colour, shape };

describe('matching requests to detections', () => {
  test('pair statuses', () => {
    assert.equal(pairStatus(req('red', 'circle'), { colour: 'red', shape: 'circle' }), 'found');
    assert.equal(pairStatus(req('red', 'circle'), { colour: 'blue', shape: 'circle' }), 'wrong-colour');
    assert.equal(pairStatus(req('red', 'circle'), { colour: 'red', shape: 'square' }), 'wrong-shape');
    assert.equal(pairStatus(req('red', 'circle'), { colour: 'blue', shape: 'square' }), 'missing');
    assert.equal(pairStatus(req(undefined, 'circle'), { colour: 'blue', shape: 'circle' }), 'found');
    assert.equal(pairStatus(req(undefined, 'circle'), { colour: 'blue', shape: 'square' }), 'missing');
  });

  test('maximum-weight assignment on rectangular matrices', () => {
    assert.deepEqual(maxWeightAssignment([], 3), []);
    assert.deepEqual(maxWeightAssignment([[1, 5, 2]], 3), [1]);
    assert.deepEqual(maxWeightAssignment([[5], [7]], 1), [-1, 0]);
    // greedy on the first row would take column 0 (9) and leave 1 for row 2: 9 + 1 < 8 + 8
    assert.deepEqual(maxWeightAssignment([[9, 8], [8, 1]], 2), [1, 0]);
  });

  test('each detection is used at most once', () => {
    const dets: Detected[] = [{ colour: 'red', shape: 'circle' }];
    const a = assignDetections([req('red', 'circle'), req('red', 'circle')], dets);
    assert.deepEqual(a, [{ status: 'found', detection: 0 }, { status: 'missing' }]);
  });

  test('exact matches come first, even when a greedy pass would spend the detection on a half match', () => {
    // "a circle (any colour) and a red circle" with a red circle and a blue circle
    const dets: Detected[] = [
      { colour: 'red', shape: 'circle' },
      { colour: 'blue', shape: 'circle' },
    ];
    assert.deepEqual(assignDetections([req(undefined, 'circle'), req('red', 'circle')], dets), [
      { status: 'found', detection: 1 },
      { status: 'found', detection: 0 },
    ]);
    // "a red circle and a blue square" with a blue circle and a red square: two half matches
    const swapped: Detected[] = [
      { colour: 'blue', shape: 'circle' },
      { colour: 'red', shape: 'square' },
    ];
    const a = assignDetections([req('red', 'circle'), req('blue', 'square')], swapped);
    assert.ok(a.every((x) => x.status === 'wrong-colour' || x.status === 'wrong-shape'), JSON.stringify(a));
    assert.notEqual(a[0].detection, a[1].detection);
  });

  test('a half match never takes a detection that completes another request', () => {
    // "a red circle and a blue circle" with only a blue circle: blue found, red wrong-colour has nothing left
    const dets: Detected[] = [{ colour: 'blue', shape: 'circle' }];
    assert.deepEqual(assignDetections([req('red', 'circle'), req('blue', 'circle')], dets), [
      { status: 'missing' },
      { status: 'found', detection: 0 },
    ]);
  });

  test('no detections: everything missing', () => {
    assert.deepEqual(assignDetections([req('green', 'triangle')], []), [{ status: 'missing' }]);
  });
});
