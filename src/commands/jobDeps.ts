// What the job commands (Generate, Finetune, Compare) share: the runner, what jobs wrote, the model in use,
// the loaded pipelines, the results panel, the log and the embedded models' folder.
import type * as vscode from 'vscode';
import type { PipelineCache } from '../engine/pipeline/pipelineCache';
import type { ResultsPanel } from '../results/resultsPanel';
import type { JobResults } from '../run/jobResults';
import type { JobRunner } from '../run/jobRunner';
import type { ModelInUse } from '../run/modelInUse';

export interface JobDeps {
  runner: JobRunner;
  results: JobResults;
  modelInUse: ModelInUse;
  pipelines: PipelineCache;
  panel: ResultsPanel;
  log: vscode.LogOutputChannel;
  builtinModelsDir: string;
}
