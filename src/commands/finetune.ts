// Prompt Lens: Finetune: Separate-and-Enhance on the file's multi-object prompts (`promptLens.finetune.*`
// settings unless the caller says otherwise), then the before/after view of the cursor's prompt.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { userFinetuneSettings } from '../config';
import { parsePromptFile } from '../engine/promptFile';
import { runFinetune } from '../engine/run/runFinetune';
import { COMMANDS } from '../ids';
import { samplingDetail, trainingDetail } from '../run/jobLogic';
import type { CompletedRun } from '../run/jobResults';
import { jobSettings, workspaceAccess } from '../run/jobSettings';
import { loadCompareView } from '../results/runView';
import { allowedPath } from '../run/workspaceAccess';
import type { JobDeps } from './jobDeps';
import { isSavedPromptFile, promptTarget } from './promptTarget';

/** A run's own length and rate (the sidebar's fields), over the settings and the model's recommendation. */
export interface FinetuneOptions {
  steps?: number;
  lr?: number;
}

export class FinetuneCommand {
  constructor(private readonly deps: JobDeps) {}

  register(): vscode.Disposable {
    return vscode.commands.registerCommand(COMMANDS.finetune, async (uri?: vscode.Uri, line?: number, options?: FinetuneOptions) => {
      const at = await promptTarget(uri, line, 'finetune on its prompts');
      const checked: FinetuneOptions = {
        ...(typeof options?.steps === 'number' && options.steps > 0 ? { steps: Math.round(options.steps) } : {}),
        ...(typeof options?.lr === 'number' && options.lr > 0 ? { lr: options.lr } : {}),
      };
      return at && (await this.finetune(at.document, at.line, checked));
    });
  }

  async finetune(document: vscode.TextDocument, line: number, options: FinetuneOptions = {}): Promise<CompletedRun | undefined> {
    const { runner, results, log, pipelines, panel, modelInUse } = this.deps;
    if (!isSavedPromptFile(document, 'finetune', runner)) return undefined;
    const { file, runsDir, provider, models } = jobSettings(document.uri);
    const userSettings = userFinetuneSettings(document.uri);
    const text = document.getText();
    const parsed = parsePromptFile(text, file);
    const cursorPrompt = parsed.prompts.find((p) => p.line >= line)?.text;
    log.info(`Finetune ${path.basename(file)} → ${runsDir}`);
    return runner.run('finetune', path.basename(file), async (job) => {
      await allowedPath(runsDir, workspaceAccess(), 'the runs folder');
      // The engine says which before/after samples come next (first and count of total, base or finetuned).
      let sampling: { first: number; count: number; total: number; side: 'before' | 'after' } | undefined;
      const done = await runFinetune(
        {
          file,
          text,
          builtinModelsDir: this.deps.builtinModelsDir,
          provider,
          models,
          allowModelPaths: vscode.workspace.isTrusted,
          runsDir,
          overrides: { finetuneSteps: options.steps, lr: options.lr },
          userSettings,
        },
        pipelines,
        {
          ...job.engine,
          onTrainingStep: (s, total) => {
            const detail = trainingDetail(s.step, total, s.loss);
            log.debug(`finetune ${detail} · |g| ${s.gradNorm.toExponential(2)} · ${Math.round(s.ms)} ms`);
            job.progress(s.step, total, detail);
          },
          onSamples: (first, total, side, samples) => {
            sampling = { first, count: samples.length, total, side };
            for (const [i, s] of samples.entries()) log.debug(`finetune sample ${first + i + 1}/${total}: ${side} · ${s.group} · "${s.prompt}" · seed ${s.seed}`);
          },
          onProgress: (p) => {
            job.progress(p.step, p.totalSteps, samplingDetail((sampling?.first ?? 0) + 1, sampling?.count ?? 1, sampling?.total ?? 1, p.step, p.totalSteps, sampling?.side));
          },
        },
      );
      const { result } = done;
      const first = result.curve[0]?.loss;
      const last = result.curve[result.curve.length - 1]?.loss;
      log.info(`Finetune done: loss ${first?.toFixed(4) ?? '?'} → ${last?.toFixed(4) ?? '?'} in ${result.curve.length} steps, ${Math.round(result.trainMs)} ms; ${done.folder}`);
      if (result.stopped) log.warn(`Training stopped early: ${result.stopped}`);
      if (result.comparisons[0]) modelInUse.used(result.comparisons[0].after);
      const run = { runId: done.id, runFolder: done.folder };
      const view = await loadCompareView(done.folder, cursorPrompt);
      panel.showView({ kind: 'compare', folder: done.folder, initial: view.initial }, { type: 'compare', view });
      results.wrote('finetune', run);
      return results.complete(run);
    });
  }
}
