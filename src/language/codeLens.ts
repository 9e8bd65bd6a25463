// "▶ Generate · Finetune · Compare" above each prompt line; `promptLens.codeLens.enabled` turns them off.
import * as vscode from 'vscode';
import { affectsSetting, codeLensEnabled } from '../config';
import { Disposable } from '../disposable';
import { lensesFor } from './codeLensLogic';

export class PromptCodeLenses extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor() {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSetting(e, 'codeLens.enabled')) this.changed.fire();
      }),
    );
  }

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
}
