// `prompt-lens check MODEL`: Add Model's compatibility check without the editor, for CI or before a long run.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { checkCompatibility } from '../engine/model/compatibility';
import { builtinModelNames } from '../engine/model/modelFolder';

/** Writes one line per check (✓ or ✗, the part, what was found or what to do) and says whether all passed. */
export async function checkModel(model: string, builtinModelsDir: string, write: (line: string) => void): Promise<boolean> {
  // A folder that exists wins over an embedded model of the same name, as in a .prompt file's `model:`.
  const root = !existsSync(model) && builtinModelNames(builtinModelsDir).includes(model) ? path.join(builtinModelsDir, model) : path.resolve(model);
  const report = await checkCompatibility(root);
  write(`${root}`);
  for (const c of report.checks) write(`${c.ok ? '✓' : '✗'} ${c.part}: ${c.detail.replace(/\n/g, '\n    ')}`);
  write(report.ok ? 'Prompt Lens can use this model.' : 'Prompt Lens cannot use this model as it is: see ✗ above.');
  return report.ok;
}
