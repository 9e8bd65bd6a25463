// What a job on a .prompt file runs with, from the editor's settings and workspace: the file, its runs
// folder, the execution provider, the user's named models, and what the job may read and write.
import * as vscode from 'vscode';
import { executionProvider, runsFolderOf, userModels } from '../config';
import type { ProviderChoice } from '../engine/session/providers';
import type { WorkspaceAccess } from './workspaceAccess';

export interface JobSettings {
  file: string;
  runsDir: string;
  provider: ProviderChoice;
  models: Record<string, string>;
}

export function jobSettings(uri: vscode.Uri): JobSettings {
  return { file: uri.fsPath, runsDir: runsFolderOf(uri), provider: executionProvider(uri), models: userModels(uri) };
}

/** What a job may read and write besides what the user opened: the whole disk when trusted, else the workspace. */
export function workspaceAccess(): WorkspaceAccess {
  return { trusted: vscode.workspace.isTrusted, folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) };
}
