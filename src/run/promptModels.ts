// The model a .prompt file names (embedded, a named user model, or a path when trusted): its fingerprint,
// for matching key sets, and the file's run settings with the model's recommended defaults.
import * as vscode from 'vscode';
import { userModels } from '../config';
import { openModelFolder } from '../engine/model/modelFolder';
import { effectiveSettings, parsePromptFile, type PromptSettings } from '../engine/promptFile';
import { resolveFileSettings, resolveModel, type ModelLookup, type ResolvedFileSettings } from '../engine/run/resolveModel';

export class PromptModels {
  constructor(private readonly builtinModelsDir: string) {}

  /** The base model's fingerprint for the file's `model:` (no ONNX session is created). */
  async modelOf(file: string, text: string): Promise<{ id: string; hash: string }> {
    const parsed = parsePromptFile(text, file);
    const root = resolveModel(effectiveSettings(parsed.settings).model, file, this.lookup(file), parsed.settings.model?.valueRange);
    const folder = await openModelFolder(root);
    return { id: folder.id, hash: folder.hash };
  }

  /** The run settings for a .prompt file's front matter and where each comes from (its model's recommended defaults included). */
  fileSettings(file: string, written: PromptSettings): Promise<ResolvedFileSettings> {
    return resolveFileSettings(written, file, this.lookup(file));
  }

  private lookup(file: string): ModelLookup {
    return { builtinModelsDir: this.builtinModelsDir, named: userModels(vscode.Uri.file(file)), allowPaths: vscode.workspace.isTrusted };
  }
}
