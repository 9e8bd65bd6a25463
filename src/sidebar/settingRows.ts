// The run settings of a .prompt file as the sidebar lists them: every key, its value, and whether the
// front matter sets it or the default applies (vscode-free, unit-tested).
import type { EffectiveSettings } from '../engine/promptFile';
import type { PromptSettings } from '../engine/promptFile/types';
import type { SettingRow } from '../protocol/messages';

const ORDER: (keyof EffectiveSettings)[] = ['model', 'seed', 'steps', 'guidance', 'scheduler', 'size', 'eta', 'negative'];

function show(key: keyof EffectiveSettings, value: EffectiveSettings[keyof EffectiveSettings]): string {
  if (value === undefined) return key === 'size' ? "model's native size" : '';
  if (key === 'seed' && Array.isArray(value)) return value.join(', ');
  if (key === 'size' && typeof value === 'object' && value !== null && 'width' in value) return `${value.width}×${value.height}`;
  if (key === 'negative' && value === '') return '(none)';
  return String(value);
}

export function settingRows(written: PromptSettings, effective: EffectiveSettings): SettingRow[] {
  return ORDER.map((key) => {
    const editable = key === 'steps' || key === 'guidance' || (key === 'seed' && effective.seed.length === 1);
    return { key, value: show(key, effective[key]), fromFile: written[key] !== undefined, ...(editable ? { editable } : {}) };
  });
}
