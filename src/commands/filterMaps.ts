// What the results view asks of the run it shows: its display maps filtered to a layer or grid, head and steps,
// and another seed's run of the newest Generate.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GenerateCommand } from './generate';
import type { JobDeps } from './jobDeps';
import { parsePromptFile } from '../engine/promptFile';
import { storedMaps } from '../engine/run/storedView';
import type { MapFilter, RunView } from '../shared/protocol';
import { describeFilter, selectionOf } from '../run/jobLogic';
import type { CompletedRun } from '../run/jobResults';
import { workspaceAccess } from '../run/jobSettings';
import { loadRunView } from '../results/runView';
import { filterSource } from '../run/workspaceAccess';
import type { SeedRuns } from '../results/seedRuns';

export class MapFilterSession {
  constructor(
    private readonly deps: Pick<JobDeps, 'runner' | 'results' | 'panel' | 'log'>,
    private readonly seedRuns: SeedRuns,
    private readonly generate: GenerateCommand,
  ) {}

  /**
   * The run in `folder` with its display maps aggregating only `filter`'s layer or grid, head and steps: a view
   * of the same run, aggregated from the attention its folder kept (nothing sampled, nothing written). Only a
   * run without that (older records), or one that kept step sums only and a step range, is sampled again (its
   * prompt, seed and steps; the prompt looked up in its .prompt file by text), as a new run that records the
   * run it filters. Scores and masks stay Separate-and-Enhance's own.
   */
  async filterMaps(folder: string, filter: MapFilter): Promise<CompletedRun | undefined> {
    const { runner, results, panel, log } = this.deps;
    let shown: RunView;
    try {
      shown = await loadRunView(folder);
      const maps = await storedMaps(folder, selectionOf(filter, shown.layers));
      if (maps) {
        log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}, from the run's kept attention`);
        const wordMaps = new Float32Array(maps.maps.length * maps.mapHeight * maps.mapWidth);
        maps.maps.forEach((m, i) => wordMaps.set(m, i * maps.mapHeight * maps.mapWidth));
        const isDefault = Object.keys(filter).length === 0;
        const view: RunView = { ...shown, wordMaps: wordMaps.buffer, mapRecipe: maps.mapRecipe, ...(isDefault ? {} : { filter }) };
        panel.showView({ kind: 'run', folder }, { type: 'result', run: this.seedRuns.attach(view) });
        return results.complete({ runId: shown.runId, runFolder: folder });
      }
    } catch (error) {
      runner.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    let source: Awaited<ReturnType<MapFilterSession['runSource']>>;
    try {
      source = await this.runSource(folder);
    } catch (error) {
      runner.notice(error instanceof Error ? error.message : String(error), 'error');
      return undefined;
    }
    const label = `${source.prompt} · ${describeFilter(filter)}`;
    log.info(`Filter maps of ${path.basename(folder)}: ${describeFilter(filter)}; the run kept no per-step maps, so it is sampled again`);
    return this.generate.sample(source.uri, source.text, source.line, label, { seed: source.seed, steps: source.steps }, { filter, layers: source.layers, of: folder, runsDir: source.runsDir });
  }

  /** Another seed's run of the newest Generate, read from its record (only those runs: the request comes from the webview). */
  async openSeedRun(folder: string): Promise<void> {
    if (!this.seedRuns.has(folder)) return;
    try {
      this.deps.panel.showView({ kind: 'run', folder }, { type: 'result', run: this.seedRuns.attach(await loadRunView(folder)) });
    } catch (error) {
      this.deps.runner.notice(`cannot show ${folder}: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }

  /**
   * The .prompt file, line and settings a run record was made from (the file as open in the editor, else on
   * disk), checked by the shared reader; in an untrusted workspace the file must be inside it.
   */
  private async runSource(folder: string): Promise<{ uri: vscode.Uri; text: string; line: number; prompt: string; seed: number; steps: number; layers: { gridH: number; gridW: number }[]; runsDir: string }> {
    const source = await filterSource(folder, workspaceAccess());
    const { file } = source;
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    let text: string;
    try {
      text = open ? open.getText() : await fs.readFile(file, 'utf8');
    } catch {
      throw new Error(`cannot filter the maps: ${file}, the prompt file of this run, is gone`);
    }
    const prompts = parsePromptFile(text, file).prompts.filter((p) => p.text === source.prompt);
    const prompt = prompts.find((p) => p.line === source.line - 1) ?? prompts[0];
    if (!prompt) throw new Error(`cannot filter the maps: "${source.prompt}" is no longer a prompt of ${path.basename(file)}; Generate it again`);
    return { uri, text, line: prompt.line, prompt: source.prompt, seed: source.seed, steps: source.steps, layers: source.layers, runsDir: source.runsDir };
  }
}
