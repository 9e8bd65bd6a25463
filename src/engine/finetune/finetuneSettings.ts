// Which learning rate, length and L_norm weight a finetune uses, and why: an explicit value for this run (CLI flag, run
// panel field), else the user's own editor setting, else the model's recommendation (its prompt_lens.json,
// measured on that model), else the engine's default (the official per-pair recipe's length).
import { FINETUNE_DEFAULTS } from './finetuneDefaults';
import type { ModelFinetune } from '../model/modelDefaults';

export type FinetuneSettingSource = 'override' | 'setting' | 'model' | 'engine';

type Key = 'lr' | 'steps' | 'normWeight';

export interface FinetuneSettings {
  values: Record<Key, number>;
  sources: Record<Key, FinetuneSettingSource>;
}

export interface FinetuneSettingInputs {
  overrides?: ModelFinetune;
  /** Values the user set in the editor's settings (not the settings' defaults). */
  userSettings?: ModelFinetune;
  model?: ModelFinetune;
}

export function resolveFinetuneSettings(inputs: FinetuneSettingInputs): FinetuneSettings {
  const pick = (key: Key): [number, FinetuneSettingSource] => {
    const layers: [ModelFinetune | undefined, FinetuneSettingSource][] = [[inputs.overrides, 'override'], [inputs.userSettings, 'setting'], [inputs.model, 'model']];
    for (const [layer, source] of layers) {
      const value = layer?.[key];
      if (value !== undefined) return [value, source];
    }
    return [FINETUNE_DEFAULTS[key], 'engine'];
  };
  const [lr, lrSource] = pick('lr');
  const [steps, stepsSource] = pick('steps');
  const [normWeight, normSource] = pick('normWeight');
  return { values: { lr, steps, normWeight }, sources: { lr: lrSource, steps: stepsSource, normWeight: normSource } };
}

const SOURCE_LABEL: Record<FinetuneSettingSource, string> = { override: '', setting: ' (your setting)', model: ' (model default)', engine: ' (engine default)' };

/** "lr 0.0001 (model default), 200 steps (engine default), L_norm weight 2 (model default)" for logs, the CLI and reports. */
export function describeFinetuneSettings(s: FinetuneSettings): string {
  const norm = s.values.normWeight > 0 ? `, L_norm weight ${s.values.normWeight}${SOURCE_LABEL[s.sources.normWeight]}` : '';
  return `lr ${s.values.lr}${SOURCE_LABEL[s.sources.lr]}, ${s.values.steps} steps${SOURCE_LABEL[s.sources.steps]}${norm}`;
}
