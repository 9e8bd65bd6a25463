import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkCompatibility } from '../../src/engine/model/compatibility';
import { MODEL_DEFAULTS_FILE } from '../../src/engine/model/modelDefaults';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TINY = path.join(ROOT, 'models', 'tiny-shapes');
const SD_TINY = path.join(ROOT, 'test', 'fixtures', 'sd-tiny');

describe('model compatibility check', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'compat-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  /** A copy of the embedded model's export (no training files, checkpoints or instrumented caches). */
  const copyTiny = (name: string): string => {
    const dir = path.join(work, name);
    const skip = ['.prompt-lens-', `${path.sep}train`, `${path.sep}checkpoints`, `${path.sep}reference`];
    cpSync(TINY, dir, { recursive: true, filter: (src) => !skip.some((part) => src.includes(part)) });
    return dir;
  };

  test('the embedded model and the SD 1.x-shaped fixture pass every check', async () => {
    for (const dir of [TINY, path.join(ROOT, 'test', 'fixtures', 'sd-tiny')]) {
      const report = await checkCompatibility(dir);
      assert.ok(report.ok, JSON.stringify(report.checks));
      assert.deepEqual(report.checks.map((c) => c.part), ['folder layout', 'recommended settings', 'tokenizer', 'scheduler', 'text encoder', 'UNet inputs', 'VAE decoder', 'UNet cross-attention']);
    }
  });

  test("the model's recommended settings are listed, or their absence", async () => {
    const detail = async (dir: string) => (await checkCompatibility(dir)).checks.find((c) => c.part === 'recommended settings')?.detail;
    assert.equal(await detail(TINY), 'prompt_lens.json: steps 20, guidance 2');
    assert.match((await detail(path.join(ROOT, 'test', 'fixtures', 'sd-tiny'))) ?? '', /^none .*: the engine's defaults apply$/);
  });

  test('a bad defaults file fails its check, naming the file and the key', async () => {
    const dir = copyTiny('bad-defaults');
    writeFileSync(path.join(dir, MODEL_DEFAULTS_FILE), '{"defaults": {"guidance": "low"}}');
    const report = await checkCompatibility(dir);
    assert.equal(report.ok, false);
    const defaults = report.checks.find((c) => c.part === 'recommended settings');
    assert.equal(defaults?.ok, false);
    assert.equal(
      defaults?.detail,
      `${path.join(dir, MODEL_DEFAULTS_FILE)}: "defaults.guidance" must be a number >= 0 (the classifier-free guidance scale), got "low"`,
    );
    assert.ok(report.checks.filter((c) => c !== defaults).every((c) => c.ok), JSON.stringify(report.checks));
  });

  test('a UNet without cross-attention fails that check and says what was seen', async () => {
    const dir = copyTiny('no-cross');
    cpSync(path.join(ROOT, 'test', 'fixtures', 'onnx', 'no_cross_attn.onnx'), path.join(dir, 'unet', 'model.onnx'));
    const report = await checkCompatibility(dir);
    assert.equal(report.ok, false);
    const unet = report.checks.find((c) => c.part === 'UNet cross-attention');
    assert.equal(unet?.ok, false);
    assert.match(unet?.detail ?? '', /no cross-attention found: \d+ Softmax node\(s\) seen/);
    // The stand-in graph's cross-attention is not as wide as the embedded text encoder either.
    assert.match(report.checks.find((c) => c.part === 'UNet inputs')?.detail ?? '', /takes 32-wide text states but the text encoder gives 128/);
    assert.ok(report.checks.filter((c) => !c.part.startsWith('UNet')).every((c) => c.ok));
  });

  test("each part's inputs, outputs and widths: what the engine feeds and reads", async () => {
    const detail = async (dir: string) => Object.fromEntries((await checkCompatibility(dir)).checks.map((c) => [c.part, c.detail]));
    const tiny = await detail(TINY);
    assert.equal(tiny['text encoder'], 'input_ids → last_hidden_state (128 wide), 585 token embeddings');
    assert.equal(tiny['UNet inputs'], 'sample, timestep, encoder_hidden_states → out_sample (3 channels)');
    assert.equal(tiny['VAE decoder'], 'none: the UNet samples pixels');
    const sd = await detail(SD_TINY);
    assert.equal(sd['UNet inputs'], 'sample, timestep, encoder_hidden_states → out_sample (4 channels)');
    assert.equal(sd['VAE decoder'], 'latent_sample → sample');
  });

  test('a latent UNet without its VAE decoder, and a text encoder from another model, fail with what to do', async () => {
    const dir = path.join(work, 'sd-parts');
    cpSync(SD_TINY, dir, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') });
    rmSync(path.join(dir, 'vae_decoder'), { recursive: true });
    cpSync(path.join(TINY, 'text_encoder', 'model.onnx'), path.join(dir, 'text_encoder', 'model.onnx'));
    const report = await checkCompatibility(dir);
    assert.equal(report.ok, false);
    const failed = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.part, c.detail]));
    assert.deepEqual(Object.keys(failed), ['text encoder', 'UNet inputs', 'VAE decoder']);
    // sd-tiny's tokenizer has ids up to 1368; tiny-shapes' text encoder embeds 585 tokens.
    assert.match(failed['text encoder'], /^the tokenizer's ids go up to 1368 but the text encoder embeds only 585 tokens/);
    assert.equal(failed['UNet inputs'], "the UNet's cross-attention takes 64-wide text states but the text encoder gives 128: they come from different models");
    assert.match(failed['VAE decoder'], /^the UNet works on 4-channel latents but vae_decoder\/model\.onnx is missing/);
  });

  test('a folder that is not an export stops at the layout check', async () => {
    const report = await checkCompatibility(work);
    assert.equal(report.ok, false);
    assert.equal(report.checks.length, 1);
    assert.match(report.checks[0].detail, /model_index\.json is missing/);
  });
});
