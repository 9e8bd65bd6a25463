// `prompt-lens check MODEL`: Add Model's compatibility check without the editor, for CI or before a long run.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { checkCompatibility } from '../engine/model/compatibility';
import { resolveModel } from '../engine/run/resolveModel';
import { InputError } from '../engine/files/errors';

/**
 * Writes one line per check (✓ or ✗, the part, what was found or what to do) and says whether all passed.
 * MODEL is resolved as a `.prompt` file in the working directory resolves `model:` (resolveModel): a bare
 * name is an embedded model, anything path-like (`./x`, `a/b`, absolute) a folder.
 */
export async function checkModel(model: string, builtinModelsDir: string, write: (line: string) => void, cwd = process.cwd()): Promise<boolean> {
  let root: string;
  try {
    root = resolveModel(model, path.join(cwd, 'prompt-lens-check'), { builtinModelsDir });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // `check my-export` with a folder of that name here: the one spelling that resolves differently from a path.
    const folderHere = existsSync(path.join(cwd, model)) ? `; a folder "${model}" is here: check ./${model}` : '';
    write(`✗ model: ${error.message.replace(/^model: /, '')}${folderHere}`);
    write('Prompt Lens cannot use this model as it is: see ✗ above.');
    return false;
  }
  const report = await checkCompatibility(root);
  write(`${root}`);
  for (const c of report.checks) write(`${c.ok ? '✓' : '✗'} ${c.part}: ${c.detail.replace(/\n/g, '\n    ')}`);
  write(report.ok ? 'Prompt Lens can use this model.' : 'Prompt Lens cannot use this model as it is: see ✗ above.');
  return report.ok;
}
