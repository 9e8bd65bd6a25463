// Finetuned key sets written by `prompt-lens finetune` / the Finetune command, newest first, so a
// UI can list them and Compare can default to the newest one made from the same base model.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface KeySetSummary {
  /** Absolute path of keys.safetensors. */
  file: string;
  /** The finetune folder it lives in. */
  folder: string;
  id: string;
  model: { id: string; hash: string };
  trainedPrompts: string[];
  steps: number;
  lr: number;
  finalLoss?: number;
}

export async function findKeySets(runsDir: string): Promise<KeySetSummary[]> {
  let names: string[];
  try {
    names = await fs.readdir(runsDir);
  } catch {
    return [];
  }
  const found: KeySetSummary[] = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort().reverse()) {
    const folder = path.join(runsDir, name);
    try {
      const json = JSON.parse(await fs.readFile(path.join(folder, 'finetune.json'), 'utf8')) as {
        model: { id: string; hash: string };
        keys: string;
        trainedPrompts: string[];
        options: { lr: number };
        curve: { loss: number }[];
      };
      found.push({
        file: path.join(folder, json.keys),
        folder,
        id: name,
        model: json.model,
        trainedPrompts: json.trainedPrompts,
        steps: json.curve.length,
        lr: json.options.lr,
        ...(json.curve.length > 0 ? { finalLoss: json.curve[json.curve.length - 1].loss } : {}),
      });
    } catch {
      // Not a finetune folder (a plain run, or foreign files): skip it.
    }
  }
  return found;
}
