// The finetune rate and length the user set in VS Code's settings. Only values the user wrote count (user,
// workspace or folder), so that a model's measured recommendation applies when the user left them alone.
import type * as vscode from 'vscode';
import type { ModelFinetune } from '../engine/model/modelDefaults';
import type { FinetuneSettings } from '../engine/finetune/finetuneSettings';
import type { SidebarState } from '../shared/protocol';

function written<T>(config: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const inspected = config.inspect<T>(key);
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue ?? undefined;
}

export function userFinetuneSettings(config: vscode.WorkspaceConfiguration): ModelFinetune {
  const steps = written<number | null>(config, 'finetune.steps');
  const lr = written<number | null>(config, 'finetune.learningRate');
  return { ...(typeof steps === 'number' ? { steps } : {}), ...(typeof lr === 'number' ? { lr } : {}) };
}

export function finetuneState(settings: FinetuneSettings): SidebarState['finetune'] {
  return { steps: settings.values.steps, lr: settings.values.lr, sources: { steps: settings.sources.steps, lr: settings.sources.lr } };
}
