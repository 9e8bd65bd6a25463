/** `prompt-lens check`: the compatibility report, line by line, for an embedded model, an SD export and a non-model. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkModel } from '../../src/cli/check';
import { copyFixture } from './sdExport';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODELS = path.join(ROOT, 'models');

async function lines(model: string): Promise<{ ok: boolean; out: string[] }> {
  const out: string[] = [];
  const ok = await checkModel(model, MODELS, (line) => out.push(line));
  return { ok, out };
}

test('an embedded model by name: every part passes', async () => {
  const { ok, out } = await lines('tiny-shapes');
  assert.equal(ok, true);
  assert.equal(out[0], path.join(MODELS, 'tiny-shapes'));
  assert.deepEqual(out.slice(1, -1).map((l) => l.split(':')[0]), ['✓ folder layout', '✓ recommended settings', '✓ tokenizer', '✓ scheduler', '✓ text encoder', '✓ UNet inputs', '✓ VAE decoder', '✓ UNet cross-attention']);
  assert.match(out.join('\n'), /recommended settings: prompt_lens\.json: .*guidance 2/);
  assert.equal(out.at(-1), 'Prompt Lens can use this model.');
});

test('an SD 1.x export by path: its 16 cross-attention layers', async () => {
  const { ok, out } = await lines(copyFixture(path.join(ROOT, 'test', 'fixtures', 'sd-tiny'), 'pl-check-'));
  assert.equal(ok, true);
  assert.match(out.join('\n'), /✓ UNet cross-attention: 16 cross-attention layers found and instrumented/);
});

test('a folder that is not a model: what is missing, and a failure', async () => {
  const { ok, out } = await lines(mkdtempSync(path.join(tmpdir(), 'pl-check-empty-')));
  assert.equal(ok, false);
  assert.match(out[1], /^✗ folder layout: .*model_index\.json is missing/);
  assert.equal(out.at(-1), 'Prompt Lens cannot use this model as it is: see ✗ above.');
});
