// Stand-ins for the lens commands that arrive with the finetune; delete this file when they do.
import * as vscode from 'vscode';

export function registerPlaceholderCommands(context: vscode.ExtensionContext): void {
  for (const [command, name] of [
    ['promptLens.finetune', 'Finetune'],
    ['promptLens.compare', 'Compare'],
  ] as const) {
    context.subscriptions.push(
      vscode.commands.registerCommand(command, (_uri?: vscode.Uri, _line?: number) => {
        void vscode.window.showInformationMessage(`Prompt Lens: ${name} arrives with the Separate-and-Enhance finetune.`);
      }),
    );
  }
}
