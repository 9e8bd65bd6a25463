import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESULTS_ID, SIDEBAR_ID } from '../../../src/shared/webviewDom';

/** Every id string in a (nested) id table. */
function ids(table: object): string[] {
  return Object.values(table).flatMap((v: unknown) => (typeof v === 'string' ? [v] : ids(v as object)));
}

test('each webview document names every element id once', () => {
  for (const [name, table] of [['results', RESULTS_ID], ['sidebar', SIDEBAR_ID]] as const) {
    const all = ids(table);
    const repeated = all.filter((id, i) => all.indexOf(id) !== i);
    assert.deepEqual(repeated, [], `${name}: ids given twice`);
    for (const id of all) assert.match(id, /^[a-z][a-z-]*$/, `${name}: "${id}" is not a plain id (no selector characters)`);
  }
});
