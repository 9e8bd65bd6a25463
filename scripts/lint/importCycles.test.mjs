// The cycle rule on small trees written to a temporary folder: file cycles, layer cycles, and clean layering.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import importCycles from './importCycles.mjs';

async function lintTree(files) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'import-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, name)), { recursive: true });
    fs.writeFileSync(path.join(cwd, name), text);
  }
  const eslint = new ESLint({
    cwd,
    overrideConfigFile: true,
    overrideConfig: [{
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { 'prompt-lens': importCycles },
      rules: { 'prompt-lens/no-import-cycles': ['error', { roots: ['src'], layerParents: ['src', 'src/engine'] }] },
    }],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  fs.rmSync(cwd, { recursive: true, force: true });
  return Object.fromEntries(results.map((r) => [path.relative(cwd, r.filePath), r.messages.map((m) => m.message)]));
}

test('an import that closes a file cycle is reported with the route', async () => {
  const found = await lintTree({
    'src/engine/a/one.ts': "import { two } from './two';\nexport const one = 1 + two;\n",
    'src/engine/a/two.ts': "import type { Three } from './three';\nexport const two = 2; export type T = Three;\n",
    'src/engine/a/three.ts': "import { one } from './one';\nexport type Three = typeof one;\n",
  });
  assert.deepEqual(found['src/engine/a/one.ts'], [
    'Import cycle: src/engine/a/one.ts -> src/engine/a/two.ts -> src/engine/a/three.ts -> src/engine/a/one.ts',
  ]);
  assert.equal(found['src/engine/a/three.ts'].length, 1);
});

test('layers that import each other are reported even without a file cycle; subfolders belong to their layer', async () => {
  const found = await lintTree({
    'src/engine/run/start.ts': "import { draw } from '../report/draw';\nexport const start = draw;\n",
    'src/engine/report/draw.ts': 'export const draw = 1;\n',
    'src/engine/report/deep/later.ts': "import { start } from '../../run/start';\nexport const later = start;\n",
  });
  assert.deepEqual(found['src/engine/run/start.ts'], [
    'Layer cycle: src/engine/run -> src/engine/report -> src/engine/run',
  ]);
  assert.deepEqual(found['src/engine/report/deep/later.ts'], [
    'Layer cycle: src/engine/report -> src/engine/run -> src/engine/report',
  ]);
  assert.deepEqual(found['src/engine/report/draw.ts'], []);
});

test('one-way layering, index files, re-exports and files lying directly in a layer parent pass', async () => {
  const found = await lintTree({
    'src/extension.ts': "import { run } from './run';\nexport const go = run;\n",
    'src/run/index.ts': "export { run } from './run';\n",
    'src/run/run.ts': "import { sample } from '../engine/pipeline/sample.js';\nexport const run = sample;\n",
    'src/engine/pipeline/sample.ts': "import { grid } from '../tensors';\nexport const sample = grid;\n",
    'src/engine/tensors/index.ts': 'export const grid = 8;\n',
    'src/ids.ts': "export const ID = 'x';\n",
    'src/run/uses-ids.ts': "import { ID } from '../ids';\nexport const id = ID;\n",
    'src/wiring.ts': "import { id } from './run/uses-ids';\nexport const wired = id;\n",
  });
  for (const [file, messages] of Object.entries(found)) assert.deepEqual(messages, [], file);
});
