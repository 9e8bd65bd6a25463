// Editor features for .prompt files: diagnostics as you type with quick fixes, completion, code
// lenses, hover previews of earlier runs, and the commands they link to. The logic lives in the
// vscode-free *Logic.ts modules and engine/history; this file only wires them to VS Code.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { affectsSetting } from '../config';
import { REPORT_FILE } from '../engine/record/files';
import { COMMANDS, LANGUAGE_ID } from '../ids';
import { PromptCodeLenses } from './codeLens';
import { PromptCompletion, TRIGGER_CHARACTERS } from './completion';
import { PromptDiagnostics, VocabularyQuickFix } from './diagnostics';
import { PromptHover } from './hover';
import { ModelService } from './modelService';

export interface LanguageDeps {
  /** Folder of the embedded models (the extension's `models/`). */
  builtinModelsDir: string;
  log: vscode.LogOutputChannel;
}

export function registerLanguageFeatures(context: vscode.ExtensionContext, deps: LanguageDeps): void {
  const selector: vscode.DocumentSelector = { language: LANGUAGE_ID };
  const models = new ModelService(deps.builtinModelsDir);
  const diagnostics = new PromptDiagnostics(models, deps.log);
  const lenses = new PromptCodeLenses();
  const refreshAll = (): void => {
    for (const document of vscode.workspace.textDocuments) diagnostics.schedule(document, 0);
  };

  context.subscriptions.push(
    diagnostics,
    lenses,
    vscode.workspace.onDidOpenTextDocument((document) => diagnostics.schedule(document, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) diagnostics.schedule(e.document);
    }),
    vscode.workspace.onDidCloseTextDocument((document) => diagnostics.forget(document)),
    // Model folders can change on disk between edits; look again when a prompt file comes to the front.
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) diagnostics.schedule(editor.document, 0);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(refreshAll),
    // A model added with Add Model (promptLens.models) can resolve a model: that was unknown.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsSetting(e, 'models')) refreshAll();
    }),
    vscode.languages.registerCodeActionsProvider(selector, new VocabularyQuickFix(models), {
      providedCodeActionKinds: VocabularyQuickFix.kinds,
    }),
    vscode.languages.registerCompletionItemProvider(selector, new PromptCompletion(models), ...TRIGGER_CHARACTERS),
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.languages.registerHoverProvider(selector, new PromptHover(models, deps.log)),
    vscode.commands.registerCommand(COMMANDS.openRun, (folder?: unknown) => openRun(folder, deps.log)),
  );
  refreshAll();
}

/** Opens a run's report.html in the browser (or, where that is not possible, in an editor). */
async function openRun(folder: unknown, log: vscode.LogOutputChannel): Promise<void> {
  if (typeof folder !== 'string' || folder === '') {
    void vscode.window.showErrorMessage('Prompt Lens: no run folder given.');
    return;
  }
  const report = path.join(folder, REPORT_FILE);
  if (!existsSync(report)) {
    void vscode.window.showErrorMessage(`Prompt Lens: ${report} does not exist (was the run deleted?).`);
    return;
  }
  const uri = vscode.Uri.file(report);
  let opened = false;
  try {
    opened = await vscode.env.openExternal(uri);
  } catch (error) {
    log.warn(`Prompt Lens: could not open ${report} externally: ${String(error)}`);
  }
  if (!opened) await vscode.commands.executeCommand('vscode.open', uri);
}
