// Prompt Lens: Generate: the prompt on a line of a .prompt file, once per seed of the file, ends in the
// results panel. Also the sampling step of a map filter that must sample its run again.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runsFolderOf } from '../config';
import { runPromptSeeds } from '../engine/run/runPrompt';
import type { WrittenRun } from '../engine/record/writeRun';
import type { RunResult } from '../engine/record/runResult';
import { seedRanking, seedSummary } from '../engine/run/seedSummary';
import { COMMANDS } from '../ids';
import type { MapFilter } from '../shared/protocol';
import type { SeedRuns } from '../results/seedRuns';
import { selectionOf } from '../run/jobLogic';
import type { CompletedRun } from '../run/jobResults';
import { jobSettings, workspaceAccess } from '../run/jobSettings';
import { toRunView } from '../results/runView';
import { allowedPath } from '../run/workspaceAccess';
import type { JobDeps } from './jobDeps';
import { isSavedPromptFile, promptTarget } from './promptTarget';

/** A map filter's re-run: the run it filters, its layers and the runs folder the new run goes to. */
export interface Refiltering {
  filter: MapFilter;
  layers: { gridH: number; gridW: number }[];
  of: string;
  runsDir: string;
}

export class GenerateCommand {
  constructor(
    private readonly deps: JobDeps,
    private readonly seedRuns: SeedRuns,
  ) {}

  register(): vscode.Disposable {
    return vscode.commands.registerCommand(COMMANDS.generate, async (uri?: vscode.Uri, line?: number) => {
      const at = await promptTarget(uri, line, 'generate from it');
      return at && (await this.generate(at.document, at.line));
    });
  }

  /** Runs the prompt on `line` (default: the cursor's) of a `.prompt` document. */
  async generate(document: vscode.TextDocument, line: number): Promise<CompletedRun | undefined> {
    if (!isSavedPromptFile(document, 'generate', this.deps.runner)) return undefined;
    const promptText = document.lineAt(Math.min(line, document.lineCount - 1)).text.trim();
    this.warnOfErrors(document);
    this.deps.log.info(`Generate ${path.basename(document.uri.fsPath)}:${line + 1} → ${runsFolderOf(document.uri)}`);
    return this.sample(document.uri, document.getText(), line, promptText, {});
  }

  /** The editor already underlines errors in the file: say so before the run finds them (it goes ahead). */
  private warnOfErrors(document: vscode.TextDocument): void {
    const errors = vscode.languages.getDiagnostics(document.uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error && d.source === 'Prompt Lens');
    if (errors.length === 0) return;
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    this.deps.runner.notice(`${path.basename(document.uri.fsPath)} has errors the run may stop on: line ${first.range.start.line + 1}: ${first.message}${more}`, 'warning', {
      title: 'Show Problems',
      run: () => void vscode.commands.executeCommand('workbench.actions.view.problems'),
    });
  }

  /** One Generate job: the prompt on `line`, optionally with seed/steps overridden and the maps filtered. */
  sample(
    uri: vscode.Uri,
    text: string,
    line: number,
    label: string,
    overrides: { seed?: number; steps?: number },
    filtering?: Refiltering,
  ): Promise<CompletedRun | undefined> {
    const filter = filtering?.filter;
    const { file, provider, models, runsDir: fileRunsDir } = jobSettings(uri);
    // A filter's new run goes beside the run it filters (never a folder the record names).
    const runsDir = filtering?.runsDir ?? fileRunsDir;
    const { runner, results, log, pipelines } = this.deps;
    return runner.run('generate', label, async (job) => {
      await allowedPath(runsDir, workspaceAccess(), 'the runs folder');
      // Every seed of the file's list, each its own run; the view shows the last, History lists them all.
      const runs = await runPromptSeeds(
        {
          file,
          text,
          line,
          runsDir,
          builtinModelsDir: this.deps.builtinModelsDir,
          provider,
          models,
          allowModelPaths: vscode.workspace.isTrusted,
          ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
          ...(filtering ? { selection: selectionOf(filtering.filter, filtering.layers), filteredFrom: filtering.of } : {}),
        },
        pipelines,
        { ...job.engine, onProgress: (p) => job.progress(p.step, p.totalSteps) },
        {
          onWritten: ({ written }, index, of) => {
            if (index === of - 1) return;
            results.wrote('generate', { runId: written.id, runFolder: written.folder });
          },
        },
      );
      if (runs.length > 1) {
        log.info(seedSummary(runs.map((r) => r.result)));
        for (const line of seedRanking(runs.map((r) => r.result))) log.info(line);
      }
      // A filter's re-run (one seed) keeps the seed list of the Generate it came from.
      if (!filter) this.seedRuns.replace(runs);
      return this.showRun(runs[runs.length - 1], filter);
    });
  }

  /** A Generate's (or a filter's) new record: shown and announced. */
  private showRun(done: { result: RunResult; written: WrittenRun }, filter: MapFilter | undefined): CompletedRun {
    const run = { runId: done.written.id, runFolder: done.written.folder };
    this.deps.log.info(`Done in ${Math.round(done.result.timings.totalMs)} ms on ${done.result.provider.name}: ${done.written.folder}`);
    this.deps.modelInUse.used(done.result);
    this.deps.panel.showView({ kind: 'run', folder: done.written.folder }, { type: 'result', run: this.seedRuns.attach(toRunView(done.result, done.written, filter)) });
    this.deps.results.wrote('generate', run);
    return this.deps.results.complete(run);
  }
}
