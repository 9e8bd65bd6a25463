// The extension's settings (`promptLens.*`): the only reader and writer of VS Code's configuration, with a
// typed getter per setting. Defaults come from SETTING_DEFAULTS; finetune values left unset fall to the engine.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelFinetune } from './engine/model/modelDefaults';
import type { ProviderChoice } from './engine/session/providers';
import { CONFIG_SECTION } from './ids';
import { SETTING_DEFAULTS, type SettingKey } from './settingDefaults';

function get<K extends SettingKey>(key: K, scope: vscode.Uri | undefined): (typeof SETTING_DEFAULTS)[K] {
  return vscode.workspace.getConfiguration(CONFIG_SECTION, scope).get(key, SETTING_DEFAULTS[key]);
}

/** Whether a configuration change touches `key` (any Prompt Lens setting when absent). */
export function affectsSetting(e: vscode.ConfigurationChangeEvent, key?: SettingKey): boolean {
  return e.affectsConfiguration(key ? `${CONFIG_SECTION}.${key}` : CONFIG_SECTION);
}

/** The runs folder of a .prompt file: `promptLens.runsFolder` resolved against the file's folder. */
export function runsFolderOf(file: vscode.Uri): string {
  const setting = get('runsFolder', file) || SETTING_DEFAULTS.runsFolder;
  return path.resolve(path.dirname(file.fsPath), setting);
}

export function executionProvider(scope: vscode.Uri): ProviderChoice {
  return get('executionProvider', scope);
}

export function codeLensEnabled(scope: vscode.Uri): boolean {
  return get('codeLens.enabled', scope);
}

/** The user's named model folders (`promptLens.models`), name → folder. */
export function userModels(scope?: vscode.Uri): Record<string, string> {
  return get('models', scope);
}

/** Adds (or renames to) `name` → `folder` in the user's `promptLens.models`. */
export async function addUserModel(name: string, folder: string): Promise<void> {
  await vscode.workspace.getConfiguration(CONFIG_SECTION).update('models', { ...userModels(), [name]: folder }, vscode.ConfigurationTarget.Global);
}

/**
 * The finetune rate and length the user set. Only values the user wrote count (user, workspace or folder),
 * so that a model's measured recommendation applies when the user left them alone.
 */
export function userFinetuneSettings(scope: vscode.Uri | undefined): ModelFinetune {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const written = (key: 'finetune.steps' | 'finetune.learningRate'): number | undefined => {
    const inspected = config.inspect<number | null>(key);
    return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue ?? undefined;
  };
  const steps = written('finetune.steps');
  const lr = written('finetune.learningRate');
  return { ...(typeof steps === 'number' ? { steps } : {}), ...(typeof lr === 'number' ? { lr } : {}) };
}
