import type { ImageSize, PromptSettings, SettingKey } from './types';

/** Settings with every value filled in; size stays optional (absent = the model's native size). */
export interface EffectiveSettings {
  model: string;
  seed: number[];
  steps: number;
  guidance: number;
  scheduler: 'ddim';
  size?: ImageSize;
  eta: number;
  negative: string;
}

/** Every setting, in the order the front matter documents them. */
export const effectiveSettingKeys: readonly (keyof EffectiveSettings)[] = ['model', 'seed', 'steps', 'guidance', 'scheduler', 'size', 'eta', 'negative'];

/** Stable Diffusion's usual values; a model folder may recommend its own (see ModelDefaults). */
export const defaultSettings: Readonly<EffectiveSettings> = Object.freeze({
  model: 'tiny-shapes',
  seed: [0],
  steps: 50,
  guidance: 7.5,
  scheduler: 'ddim',
  eta: 0,
  negative: '',
});

/**
 * The settings a model folder may recommend: those whose best value depends on the model. `model`
 * names the folder itself and `seed` belongs to the prompt, so neither is here.
 */
export const modelDefaultKeys = ['steps', 'guidance', 'scheduler', 'size', 'eta', 'negative'] as const satisfies readonly SettingKey[];
export type ModelDefaultKey = (typeof modelDefaultKeys)[number];
export type ModelDefaults = Partial<Pick<EffectiveSettings, ModelDefaultKey>>;

/** Where a setting's value comes from: the .prompt file, the model's recommended defaults, the engine's defaults. */
export type SettingSource = 'file' | 'model' | 'engine';

export interface ResolvedSettings {
  values: EffectiveSettings;
  sources: Record<keyof EffectiveSettings, SettingSource>;
}

/** Each setting from the file if it sets it, else from the model's recommended defaults, else the engine's. */
export function resolveSettings(written: PromptSettings, modelDefaults: ModelDefaults = {}): ResolvedSettings {
  const values: EffectiveSettings = { ...defaultSettings, seed: [...defaultSettings.seed] };
  const sources = {} as Record<keyof EffectiveSettings, SettingSource>;
  const set = values as unknown as Record<string, unknown>;
  for (const key of effectiveSettingKeys) {
    const fromFile = written[key];
    const fromModel = (modelDefaults as Partial<Record<SettingKey, unknown>>)[key];
    if (fromFile) {
      set[key] = fromFile.value;
      sources[key] = 'file';
    } else if (fromModel !== undefined) {
      set[key] = fromModel;
      sources[key] = 'model';
    } else {
      sources[key] = 'engine';
    }
  }
  return { values, sources };
}

/** The effective values only (see resolveSettings). */
export function effectiveSettings(written: PromptSettings, modelDefaults: ModelDefaults = {}): EffectiveSettings {
  return resolveSettings(written, modelDefaults).values;
}
