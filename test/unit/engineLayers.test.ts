// Holds src/engine/README.md to the code: every engine folder is listed, and a folder imports only
// from folders above it in the list (so the stages have no import cycle between them).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ENGINE = path.resolve(__dirname, '..', '..', '..', 'src', 'engine');
const SHARED = path.resolve(ENGINE, '..', 'shared');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

test('engine folders import only from the folders README.md lists above them', () => {
  const order = [...readFileSync(path.join(ENGINE, 'README.md'), 'utf8').matchAll(/^\d+\. `(\w+)\/`/gm)].map((m) => m[1]);
  const folders = readdirSync(ENGINE, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual([...order].sort(), [...folders].sort(), 'README.md lists every engine folder once');
  const wrong: string[] = [];
  for (const file of sources(ENGINE)) {
    const from = path.relative(ENGINE, file).split(path.sep)[0];
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const resolved = path.resolve(path.dirname(file), fileName);
      if (path.relative(SHARED, resolved).split(path.sep)[0] !== '..') continue; // src/shared/ lies below every stage
      const target = path.relative(ENGINE, resolved).split(path.sep)[0];
      if (target !== from && !(order.indexOf(target) >= 0 && order.indexOf(target) < order.indexOf(from))) {
        wrong.push(`${path.relative(ENGINE, file)} imports ${fileName}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
