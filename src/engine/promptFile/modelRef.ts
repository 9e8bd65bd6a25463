import * as path from 'node:path';

export type ModelReference = { kind: 'name'; name: string } | { kind: 'path'; path: string };

/**
 * `model:` holds either a bare name (`tiny-shapes`, looked up among the installed models) or a
 * folder path, recognised by a slash, a leading dot or being absolute, and resolved relative to
 * the folder of the .prompt file.
 */
export function resolveModelReference(model: string, promptFile: string): ModelReference {
  const isPath = model.includes('/') || model.includes('\\') || model.startsWith('.') || path.isAbsolute(model);
  return isPath ? { kind: 'path', path: path.resolve(path.dirname(promptFile), model) } : { kind: 'name', name: model };
}
