// Which folders the results panel may load again when its webview names one (its saved state, a restore
// request): the workspace, the runs folders of open .prompt files, and what this window wrote or showed.
import * as vscode from 'vscode';
import { runsFolderOf } from '../config';
import { LANGUAGE_ID } from '../ids';
import type { JobResults } from '../run/jobResults';
import { workspaceAccess } from '../run/jobSettings';
import { mayRestore } from '../run/workspaceAccess';

export function mayRestoreFolder(folder: string, results: JobResults): Promise<boolean> {
  const promptRunsDirs = vscode.workspace.textDocuments.filter((d) => d.languageId === LANGUAGE_ID && d.uri.scheme === 'file').map((d) => runsFolderOf(d.uri));
  return mayRestore(folder, workspaceAccess(), [...results.knownFolders(), ...promptRunsDirs]);
}
