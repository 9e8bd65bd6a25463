// "▶ Generate · Finetune · Compare" above each prompt line; `promptLens.codeLens.enabled` turns them off.
import * as vscode from 'vscode';
import { affectsSetting, codeLensEnabled } from '../config';
import { lensesFor } from './codeLensLogic';

export class PromptCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly listener = vscode.workspace.onDidChangeConfiguration((e) => {
    if (affectsSetting(e, 'codeLens.enabled')) this.changed.fire();
  });

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!codeLensEnabled(document.uri)) return [];
    return lensesFor(document.getText()).map(
      (lens) =>
        new vscode.CodeLens(new vscode.Range(lens.line, 0, lens.line, 0), {
          title: lens.title,
          command: lens.command,
          tooltip: lens.tooltip,
          arguments: [document.uri, lens.line],
        }),
    );
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
