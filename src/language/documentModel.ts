// Parses a .prompt document and looks up its model, as diagnostics, completion and hovers need.
import * as vscode from 'vscode';
import { userModels } from '../config';
import { parsePromptFile, type ParsedPromptFile } from '../engine/promptFile';
import { modelRequest, type ModelRequest } from './diagnosticsLogic';
import type { ModelLookup, ModelService } from './modelService';
import { splitLines } from './promptText';

export interface DocumentModel {
  parsed: ParsedPromptFile;
  lines: string[];
  /** Absent when the front matter has errors. */
  request?: ModelRequest;
  lookup?: ModelLookup;
}

export async function documentModel(models: ModelService, document: vscode.TextDocument): Promise<DocumentModel> {
  const text = document.getText();
  const parsed = parsePromptFile(text, document.uri.fsPath);
  const lines = splitLines(text);
  const request = modelRequest(parsed, lines);
  if (!request) return { parsed, lines };
  // Untitled or virtual documents have no folder: relative model paths resolve against the workspace.
  const file = document.uri.scheme === 'file' ? document.uri.fsPath : fallbackFile(document);
  const lookup = await models.lookup(request.model, file, vscode.workspace.isTrusted, userModels(document.uri));
  return { parsed, lines, request, lookup };
}

function fallbackFile(document: vscode.TextDocument): string {
  const folder = vscode.workspace.getWorkspaceFolder(document.uri) ?? vscode.workspace.workspaceFolders?.[0];
  return vscode.Uri.joinPath(folder?.uri ?? vscode.Uri.file(process.cwd()), 'untitled.prompt').fsPath;
}
