// "Prompt Lens: Add Model…": pick an ONNX export folder, check it part by part, and register it
// under a name in the `promptLens.models` setting so `.prompt` files can say `model: <name>`.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { addUserModel, userModels } from '../config';
import { checkCompatibility } from '../engine/model/compatibility';
import type { CacheLocation } from '../engine/onnx/cache';
import { COMMANDS } from '../ids';

/** `cache`: where a read-only model's instrumented copy goes, as for its runs. */
export function registerModelCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, cache: CacheLocation): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.addModel, (folder?: unknown, name?: unknown) =>
      addModel(
        log,
        cache,
        folder instanceof vscode.Uri ? folder : typeof folder === 'string' ? vscode.Uri.file(folder) : undefined,
        typeof name === 'string' ? name : undefined,
      ),
    ),
  );
}

/** Why `value` cannot name a model (undefined when it can). */
export function modelNameProblem(value: string, folder: string, models: Record<string, string>): string | undefined {
  return !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(value)
    ? 'Letters, digits, ".", "_" and "-" only (a name with a slash would read as a path)'
    : models[value] && models[value] !== folder
      ? `"${value}" already names ${models[value]}`
      : undefined;
}

/**
 * Checks `given` (asked with a folder dialog when absent) and adds it to `promptLens.models` under
 * `givenName` (asked with an input box when absent). Resolves with the name, or undefined.
 */
async function addModel(log: vscode.LogOutputChannel, cache: CacheLocation, given?: vscode.Uri, givenName?: string): Promise<string | undefined> {
  const folder =
    given ??
    (
      await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Check and Add',
        title: 'Stable Diffusion ONNX export (diffusers/Optimum layout)',
      })
    )?.[0];
  if (!folder) return undefined;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Prompt Lens: checking ${path.basename(folder.fsPath)}…` },
    () => checkCompatibility(folder.fsPath, cache),
  );
  log.info(`Compatibility of ${folder.fsPath}:`);
  for (const check of report.checks) (check.ok ? log.info : log.error).call(log, `  ${check.ok ? '✓' : '✗'} ${check.part}: ${check.detail}`);
  if (!report.ok) {
    const failed = report.checks.find((c) => !c.ok);
    void vscode.window.showErrorMessage(`Prompt Lens can't use ${folder.fsPath}: ${failed?.part}: ${failed?.detail}`, 'Show Log').then((choice) => {
      if (choice) log.show(true);
    });
    return undefined;
  }
  const models = userModels();
  let name: string | undefined;
  if (givenName !== undefined) {
    const problem = modelNameProblem(givenName, folder.fsPath, models);
    if (problem) {
      log.error(`Add Model: ${problem}`);
      void vscode.window.showErrorMessage(`Prompt Lens: ${problem}`);
      return undefined;
    }
    name = givenName;
  } else {
    name = await vscode.window.showInputBox({
      title: 'Name for this model (use it as `model: NAME` in .prompt files)',
      value: path.basename(folder.fsPath),
      validateInput: (value) => modelNameProblem(value, folder.fsPath, models),
    });
  }
  if (!name) return undefined;
  await addUserModel(name, folder.fsPath);
  log.info(`Added model "${name}" → ${folder.fsPath}`);
  void vscode.window.showInformationMessage(`Prompt Lens: added "${name}" (${report.checks.at(-1)?.detail}). Use it with model: ${name}`);
  return name;
}
