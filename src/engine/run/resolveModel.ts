// The `model:` setting to a folder: a bare name is an embedded model, anything path-like is a
// folder relative to the .prompt file. Unknown names are the user's input error, with the choices.
import * as path from 'node:path';
import { builtinModelNames } from '../model/modelFolder';
import { resolveModelReference, type SourceRange } from '../promptFile';
import { InputError } from './errors';

export function resolveModel(
  model: string,
  promptFile: string,
  builtinModelsDir: string,
  where?: SourceRange,
  allowPaths = true,
): string {
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
  throw new InputError(
    `model: no embedded model is named "${reference.name}" (embedded: ${names.join(', ') || 'none'}); for your own export give a folder path such as ./models/sd15-onnx`,
    location,
  );
}
