import type { ImageSize, PromptSettings } from './types';

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

export const defaultSettings: Readonly<EffectiveSettings> = Object.freeze({
  model: 'tiny-shapes',
  seed: [0],
  steps: 50,
  guidance: 7.5,
  scheduler: 'ddim',
  eta: 0,
  negative: '',
});

/** The defaults overlaid with what the file sets. */
export function effectiveSettings(settings: PromptSettings): EffectiveSettings {
  const out: EffectiveSettings = { ...defaultSettings, seed: [...defaultSettings.seed] };
  for (const key of Object.keys(settings) as (keyof PromptSettings)[]) {
    const setting = settings[key];
    if (setting) (out as unknown as Record<string, unknown>)[key] = setting.value;
  }
  return out;
}
