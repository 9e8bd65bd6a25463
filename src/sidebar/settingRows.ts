// The run and finetune settings as the sidebar lists them: every key, its effective value, and where it
// comes from: the front matter or the user's setting, the model's recommended defaults or the engine's
// (vscode-free, unit-tested).
import { effectiveSettingKeys, type EffectiveSettings, type ResolvedSettings } from '../engine/promptFile';
import type { FinetuneSettings } from '../engine/finetune/finetuneSettings';
import type { SettingRow, SidebarState } from '../shared/protocol';

function show(key: keyof EffectiveSettings, value: EffectiveSettings[keyof EffectiveSettings]): string {
  if (value === undefined) return key === 'size' ? "model's native size" : '';
  if (key === 'seed' && Array.isArray(value)) return value.join(', ');
  if (key === 'size' && typeof value === 'object' && value !== null && 'width' in value) return `${value.width}×${value.height}`;
  if (key === 'negative' && value === '') return '(none)';
  return String(value);
}

export function settingRows({ values, sources }: ResolvedSettings): SettingRow[] {
  return effectiveSettingKeys.map((key) => {
    const editable = key === 'steps' || key === 'guidance' || (key === 'seed' && values.seed.length === 1);
    return { key, value: show(key, values[key]), source: sources[key], ...(editable ? { editable } : {}) };
  });
}

export function finetuneState(settings: FinetuneSettings): SidebarState['finetune'] {
  return { steps: settings.values.steps, lr: settings.values.lr, sources: { steps: settings.sources.steps, lr: settings.sources.lr } };
}
