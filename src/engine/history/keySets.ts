// Finetuned key sets written by `prompt-lens finetune` / the Finetune command, newest first, so a
// UI can list them and Compare can default to the newest one made from the same base model.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { realPathWithin } from '../files/containment';
import { readFinetuneRecord } from '../record/read';

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
      const record = await readFinetuneRecord(folder);
      // The keys file must really be in its folder: a symlink out of it is not this finetune's keys.
      const file = path.join(folder, record.keys);
      await realPathWithin(file, [folder], `the key set of ${folder}`);
      found.push({
        file,
        folder,
        id: name,
        model: record.model,
        trainedPrompts: record.trainedPrompts,
        steps: record.curve.length,
        lr: record.options.lr,
        ...(record.curve.length > 0 ? { finalLoss: record.curve[record.curve.length - 1].loss } : {}),
      });
    } catch {
      // Not a finetune folder (a plain run, or foreign or broken files): skip it.
    }
  }
  return found;
}
