import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkCompatibility } from '../../src/engine/model/compatibility';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TINY = path.join(ROOT, 'models', 'tiny-shapes');

describe('model compatibility check', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'compat-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the embedded model and the SD 1.x-shaped fixture pass every check', async () => {
    for (const dir of [TINY, path.join(ROOT, 'test', 'fixtures', 'sd-tiny')]) {
      const report = await checkCompatibility(dir);
      assert.ok(report.ok, JSON.stringify(report.checks));
      assert.deepEqual(report.checks.map((c) => c.part), ['folder layout', 'tokenizer', 'scheduler', 'text encoder', 'UNet cross-attention']);
    }
  });

  test('a UNet without cross-attention fails that check and says what was seen', async () => {
    const dir = path.join(work, 'no-cross');
    cpSync(TINY, dir, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') && !src.includes(`${path.sep}train`) });
    cpSync(path.join(ROOT, 'test', 'fixtures', 'onnx', 'no_cross_attn.onnx'), path.join(dir, 'unet', 'model.onnx'));
    const report = await checkCompatibility(dir);
    assert.equal(report.ok, false);
    const unet = report.checks.find((c) => c.part === 'UNet cross-attention');
    assert.equal(unet?.ok, false);
    assert.match(unet?.detail ?? '', /no cross-attention found: \d+ Softmax node\(s\) seen/);
    assert.ok(report.checks.filter((c) => c.part !== 'UNet cross-attention').every((c) => c.ok));
  });

  test('a folder that is not an export stops at the layout check', async () => {
    const report = await checkCompatibility(work);
    assert.equal(report.ok, false);
    assert.equal(report.checks.length, 1);
    assert.match(report.checks[0].detail, /model_index\.json is missing/);
  });
});
