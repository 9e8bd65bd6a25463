// The `model:` setting to a folder: a bare name is an embedded model, anything path-like is a
// folder relative to the .prompt file. Unknown names are the user's input error, with the choices.
// Once the folder is known, so are the model's recommended settings, and with them the run's.
import * as path from 'node:path';
import { readModelDefaults } from '../model/modelDefaults';
import { builtinModelNames } from '../model/modelFolder';
import { effectiveSettings, resolveModelReference, resolveSettings, type PromptSettings, type ResolvedSettings, type SourceRange } from '../promptFile';
import { InputError } from '../files/errors';

export interface ModelLookup {
  builtinModelsDir: string;
  /** Names the user gave their own exports (setting promptLens.models / Add Model), name → folder. */
  named?: Record<string, string>;
  /** False in an untrusted workspace: only embedded models may be loaded. */
  allowPaths?: boolean;
}

export function resolveModel(model: string, promptFile: string, lookup: ModelLookup, where?: SourceRange): string {
  const { builtinModelsDir, named = {}, allowPaths = true } = lookup;
  const reference = resolveModelReference(model, promptFile);
  const location = where && { file: promptFile, line: where.line, column: where.column };
  if (reference.kind === 'path') {
    if (allowPaths) return reference.path;
    throw new InputError(
      `model: this workspace is not trusted, so Prompt Lens runs only its embedded models here, not ${reference.path}; trust the workspace to use your own model`,
      location,
    );
  }
  const names = builtinModelNames(builtinModelsDir);
  if (names.includes(reference.name)) return path.join(builtinModelsDir, reference.name);
  const own = named[reference.name];
  if (own !== undefined) {
    if (allowPaths) return path.resolve(own);
    throw new InputError(
      `model: this workspace is not trusted, so Prompt Lens runs only its embedded models here, not "${reference.name}" (${own}); trust the workspace to use your own model`,
      location,
    );
  }
  throw new InputError(
    `model: no model is named "${reference.name}" (embedded: ${names.join(', ') || 'none'}${
      Object.keys(named).length > 0 ? `; yours: ${Object.keys(named).join(', ')}` : ''
    }); for your own export give a folder path such as ./models/sd15-onnx, or add it with "Prompt Lens: Add Model…"`,
    location,
  );
}

export interface ResolvedFileSettings extends ResolvedSettings {
  modelRoot: string;
}

/**
 * The file's model folder and its run settings: each from the file if it sets it, else the
 * model's recommended defaults (`prompt_lens.json`), else the engine's. A bad defaults file is a ModelError.
 */
export async function resolveFileSettings(written: PromptSettings, promptFile: string, lookup: ModelLookup): Promise<ResolvedFileSettings> {
  const modelRoot = resolveModel(effectiveSettings(written).model, promptFile, lookup, written.model?.valueRange);
  return { modelRoot, ...resolveSettings(written, await readModelDefaults(modelRoot)) };
}
