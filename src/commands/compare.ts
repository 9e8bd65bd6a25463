// Prompt Lens: Compare: the cursor's prompt with the base model's keys and with a finetuned key set, same
// seed. The key set is the one the caller names, or the newest made from the same base model (asked when
// there are several).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { KeySetSummary } from '../engine/history';
import { parsePromptFile } from '../engine/promptFile';
import { comparePrompt } from '../engine/run/comparePrompt';
import { COMMANDS } from '../ids';
import type { CompletedRun } from '../run/jobResults';
import { jobSettings, workspaceAccess } from '../run/jobSettings';
import type { PromptModels } from '../run/promptModels';
import { loadCompareView } from '../results/runView';
import { allowedPath } from '../run/workspaceAccess';
import type { FinetuneCommand } from './finetune';
import type { JobDeps } from './jobDeps';
import { pickKeySet } from './keySetPicker';
import { isSavedPromptFile, promptTarget } from './promptTarget';

export class CompareCommand {
  constructor(
    private readonly deps: JobDeps,
    private readonly promptModels: PromptModels,
    private readonly finetune: FinetuneCommand,
  ) {}

  register(): vscode.Disposable {
    return vscode.commands.registerCommand(COMMANDS.compare, async (uri?: vscode.Uri, line?: number, keySetFile?: string) => {
      const at = await promptTarget(uri, line, 'compare its prompt before and after finetuning');
      return at && (await this.compare(at.document, at.line, typeof keySetFile === 'string' ? keySetFile : undefined));
    });
  }

  async compare(document: vscode.TextDocument, line: number, keySetFile?: string): Promise<CompletedRun | undefined> {
    const { runner, results, log, pipelines, panel, modelInUse } = this.deps;
    if (!isSavedPromptFile(document, 'compare', runner)) return undefined;
    const { file, runsDir, provider, models } = jobSettings(document.uri);
    const text = document.getText();
    let keySet: KeySetSummary | undefined;
    try {
      keySet = await pickKeySet({ file, text, runsDir, wanted: keySetFile }, this.promptModels, runner, () => void this.finetune.finetune(document, line));
    } catch (error) {
      runner.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    if (!keySet) return undefined;
    const promptText = parsePromptFile(text, file).prompts.find((p) => p.line >= line)?.text ?? '';
    log.info(`Compare ${path.basename(file)}:${line + 1} with ${keySet.id} → ${runsDir}`);
    const chosen = keySet;
    return runner.run('compare', promptText, async (job) => {
      await allowedPath(runsDir, workspaceAccess(), 'the runs folder');
      await allowedPath(chosen.file, workspaceAccess(), 'the key set');
      let phase = 0;
      const done = await comparePrompt(
        { file, text, line, keySetFile: chosen.file, runsDir, builtinModelsDir: this.deps.builtinModelsDir, provider, models, allowModelPaths: vscode.workspace.isTrusted },
        pipelines,
        {
          ...job.engine,
          onProgress: (p) => {
            if (p.step === 1) phase++;
            job.progress(p.step, p.totalSteps, `${phase <= 1 ? 'base' : 'finetuned'} · step ${p.step}/${p.totalSteps}`);
          },
        },
      );
      modelInUse.used(done.after);
      const run = { runId: done.id, runFolder: done.folder };
      log.info(`Compare done: overlap ${done.before.scores?.overlap.toFixed(3) ?? '?'} → ${done.after.scores?.overlap.toFixed(3) ?? '?'}; ${done.folder}`);
      const view = await loadCompareView(done.folder);
      panel.showView({ kind: 'compare', folder: done.folder }, { type: 'compare', view });
      results.wrote('compare', run);
      return results.complete(run);
    });
  }
}
