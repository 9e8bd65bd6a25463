// Which finetuned key set Compare uses: the one asked for, else the newest made from the file's base model,
// else the user picks among several; with none, a warning that offers to run Finetune.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findKeySets, type KeySetSummary } from '../engine/history';
import { chooseKeySet, keySetsForModel, NO_KEY_SET_MESSAGE } from '../run/jobLogic';
import type { JobRunner } from '../run/jobRunner';
import type { PromptModels } from '../run/promptModels';

export interface KeySetRequest {
  file: string;
  text: string;
  runsDir: string;
  /** A key set file the caller names (the sidebar's list). */
  wanted: string | undefined;
}

export async function pickKeySet(
  { file, text, runsDir, wanted }: KeySetRequest,
  promptModels: PromptModels,
  runner: JobRunner,
  runFinetune: () => void,
): Promise<KeySetSummary | undefined> {
  const model = await promptModels.modelOf(file, text);
  const matching = keySetsForModel(await findKeySets(runsDir), model.hash);
  const choice = chooseKeySet(matching, wanted ? (k) => path.resolve(k.file) === path.resolve(wanted) : undefined);
  if (choice.kind === 'none') {
    runner.notice(`${NO_KEY_SET_MESSAGE.replace('this model', model.id)} (looked in ${runsDir})`, 'warning', { title: 'Run Finetune', run: runFinetune });
    return undefined;
  }
  if (choice.kind === 'one') return choice.keySet;
  const picked = await vscode.window.showQuickPick(
    choice.keySets.map((k) => ({
      label: k.id,
      description: `${k.steps} steps · lr ${k.lr}${k.finalLoss !== undefined ? ` · loss ${k.finalLoss.toFixed(4)}` : ''}`,
      detail: k.trainedPrompts.join(' · '),
      keySet: k,
    })),
    { title: 'Prompt Lens: Compare with which finetuned key set?', placeHolder: `Key sets made from ${model.id}, newest first` },
  );
  return picked?.keySet;
}
