// Extension entry: wires the engine (shared with the CLI) to the editor: language features, the job
// commands and their queue, the results panel, the sidebar run panel and the log. Each part is made
// after what it needs, so nothing here refers forward.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CompareCommand } from './commands/compare';
import { FinetuneCommand } from './commands/finetune';
import { GenerateCommand } from './commands/generate';
import type { JobDeps } from './commands/jobDeps';
import { PipelineCache } from './engine/pipeline/pipelineCache';
import { COMMANDS, VIEWS } from './ids';
import { registerLanguageFeatures } from './language';
import { registerModelCommands } from './models/addModel';
import { MapFilterSession } from './commands/filterMaps';
import { mayRestoreFolder } from './results/restorableFolders';
import { ResultsPanel } from './results/resultsPanel';
import { SeedRuns } from './results/seedRuns';
import { JobQueue } from './run/jobQueue';
import { JobResults } from './run/jobResults';
import { JobRunner } from './run/jobRunner';
import { ModelInUse } from './run/modelInUse';
import { PromptModels } from './run/promptModels';
import { SidebarView } from './sidebar/sidebarView';
import { createTestApi, type PromptLensTestApi } from './testApi';

export function activate(context: vscode.ExtensionContext): PromptLensTestApi | undefined {
  const own = <T extends vscode.Disposable>(value: T): T => {
    context.subscriptions.push(value);
    return value;
  };
  const log = own(vscode.window.createOutputChannel('Prompt Lens', { log: true }));
  const builtinModelsDir = path.join(context.extensionPath, 'models');
  registerLanguageFeatures(context, { builtinModelsDir, log });
  // A model folder that is not writable (a read-only install) gets its instrumented copy in the extension's storage.
  const cache = { userDir: context.globalStorageUri.fsPath };
  registerModelCommands(context, log, cache);

  const modelInUse = own(new ModelInUse(log));
  // The sidebar shows the model and provider as soon as a pipeline loads, not after the first run.
  const pipelines = own(new PipelineCache({ onDidLoad: (info) => modelInUse.loaded(info), cache }));
  const queue = own(new JobQueue());
  const results = own(new JobResults());
  const panel = own(new ResultsPanel(context.extensionUri, { mayRestore: (folder) => mayRestoreFolder(folder, results), log }));
  const runner = new JobRunner(queue, panel, log);
  const jobs: JobDeps = { runner, results, modelInUse, pipelines, panel, log, builtinModelsDir };
  const seedRuns = new SeedRuns();
  const promptModels = new PromptModels(builtinModelsDir);
  const generate = new GenerateCommand(jobs, seedRuns);
  const finetune = new FinetuneCommand(jobs);
  const compare = new CompareCommand(jobs, promptModels, finetune);
  const mapFilter = new MapFilterSession(jobs, seedRuns, generate);
  const sidebar = own(new SidebarView(context.extensionUri, { modelInUse, results, promptModels, queue, panel }));

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(VIEWS.results, panel.serializer()),
    vscode.window.registerWebviewViewProvider(VIEWS.runPanel, sidebar),
    panel.onDidAskCancel((runId) => runner.cancel(runId)),
    panel.onDidAskFilterMaps(({ folder, filter }) => void mapFilter.filterMaps(folder, filter)),
    panel.onDidAskSeedRun((folder) => void mapFilter.openSeedRun(folder)),
    generate.register(),
    finetune.register(),
    compare.register(),
    vscode.commands.registerCommand(COMMANDS.cancel, (jobId?: string) => runner.cancel(typeof jobId === 'string' ? jobId : undefined)),
    vscode.commands.registerCommand(COMMANDS.showResults, () => panel.reopen()),
    vscode.commands.registerCommand(COMMANDS.exportView, () => panel.requestExport()),
    vscode.commands.registerCommand(COMMANDS.showLog, () => log.show(true)),
    vscode.commands.registerCommand(COMMANDS.refreshRuns, () => sidebar.schedule(0)),
  );

  // The suite's hooks into the webviews and the queue exist only where VS Code runs the extension's tests.
  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  return createTestApi({ panel, sidebar, queue, runner, results, mapFilter }, context.subscriptions);
}
