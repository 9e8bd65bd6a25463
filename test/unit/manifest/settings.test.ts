// package.json's settings declare the defaults the extension and the engine use.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FINETUNE_DEFAULTS } from '../../../src/engine/finetune/finetuneDefaults';
import { CONFIG_SECTION } from '../../../src/ids';
import { SETTING_DEFAULTS } from '../../../src/settingDefaults';
import { manifest } from './manifest';

const { properties } = manifest.contributes.configuration;

describe('settings in package.json', () => {
  test('every setting declares the default SETTING_DEFAULTS holds, and no other setting exists', () => {
    const declared = Object.fromEntries(Object.entries(properties).map(([key, setting]) => [key.slice(CONFIG_SECTION.length + 1), setting.default]));
    assert.deepEqual(declared, SETTING_DEFAULTS);
  });

  test("the finetune settings' descriptions name the engine's defaults", () => {
    const steps = properties[`${CONFIG_SECTION}.finetune.steps`].markdownDescription ?? '';
    const lr = properties[`${CONFIG_SECTION}.finetune.learningRate`].markdownDescription ?? '';
    assert.match(steps, new RegExp(`else ${FINETUNE_DEFAULTS.steps}\\b`));
    assert.match(lr, new RegExp(`else ${FINETUNE_DEFAULTS.lr.toExponential().replace('-', '\\-')}\\b`));
  });
});
