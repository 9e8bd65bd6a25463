import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { folderDate, keySetName, trainedOnLabel } from '../../../src/shared/keySetName';

describe('key set names', () => {
  const id = '20261202-211019-finetune-a-red-circle';
  const day = new Date(2026, 11, 2).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });

  test('the date and time come from the folder name; a name without a timestamp has none', () => {
    assert.equal(folderDate(id), `${day}, 21:10`);
    assert.equal(folderDate('my-keys'), undefined);
  });

  test('named by the first trained prompt and how many others; the folder name when none is known', () => {
    assert.equal(trainedOnLabel(['a red circle and a blue square'], id), 'a red circle and a blue square');
    assert.equal(trainedOnLabel(['a red circle and a blue square', 'a green triangle', 'a red square'], id), 'a red circle and a blue square +2 more');
    assert.equal(trainedOnLabel([], id), id);
  });

  test('the full name: what it was trained on, then when', () => {
    assert.equal(keySetName(['a red circle', 'a blue square'], id), `a red circle +1 more · ${day}, 21:10`);
    assert.equal(keySetName([], 'my-keys'), 'my-keys');
  });
});
