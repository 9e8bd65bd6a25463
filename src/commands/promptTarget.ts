// The .prompt document and line a job command is about, and the check that it is a saved .prompt file.
import * as vscode from 'vscode';
import { LANGUAGE_ID } from '../ids';
import type { JobRunner } from '../run/jobRunner';

/** The command's arguments (code lens, sidebar) or else the active editor's document and cursor line. */
export async function promptTarget(uri: unknown, line: unknown, what: string): Promise<{ document: vscode.TextDocument; line: number } | undefined> {
  const editor = vscode.window.activeTextEditor;
  const document = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
  if (!document || document.languageId !== LANGUAGE_ID) {
    void vscode.window.showErrorMessage(`Prompt Lens: open a .prompt file to ${what}.`);
    return undefined;
  }
  const cursor = editor?.document === document ? editor.selection.active.line : 0;
  return { document, line: typeof line === 'number' ? line : cursor };
}

/** Whether a job can run on `document` (a .prompt file on disk); says what to do when not. */
export function isSavedPromptFile(document: vscode.TextDocument, what: string, runner: JobRunner): boolean {
  if (document.languageId === LANGUAGE_ID && document.uri.scheme === 'file') return true;
  runner.notice(`open a saved .prompt file and put the cursor on a prompt line to ${what}.`, 'error');
  return false;
}
