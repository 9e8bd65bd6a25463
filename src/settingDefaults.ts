// What each `promptLens.*` setting is when the user left it alone (vscode-free, so the manifest unit test can
// compare package.json's declared defaults with it). The finetune length and rate stay empty: they fall to the
// model's recommendation, then to the engine's FINETUNE_DEFAULTS, which no setting repeats.
import type { ProviderChoice } from './engine/session/providers';

export const SETTING_DEFAULTS = {
  'codeLens.enabled': true as boolean,
  runsFolder: 'runs',
  executionProvider: 'cpu' as ProviderChoice,
  'finetune.steps': null as number | null,
  'finetune.learningRate': null as number | null,
  models: {} as Record<string, string>,
};

export type SettingKey = keyof typeof SETTING_DEFAULTS;
