// One loaded pipeline per model folder and provider: sessions are expensive to create (and the
// instrumented graph is written once), so the extension and CLI reuse them across runs.
import { openModelFolder } from '../model/modelFolder';
import type { ProviderChoice } from '../session/createSession';
import { Pipeline } from './pipeline';

export interface LoadedPipelineInfo {
  modelRoot: string;
  modelId: string;
  provider: string;
  /** Why faster providers were skipped. */
  fallbacks: string[];
}

export interface PipelineCacheOptions {
  /** Called once each time a pipeline finishes loading (e.g. to show the model and provider in use). */
  onDidLoad?(info: LoadedPipelineInfo): void;
  threads?: number;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<Pipeline>>();

  constructor(private readonly options: PipelineCacheOptions = {}) {}

  get(modelRoot: string, provider: ProviderChoice): Promise<Pipeline> {
    const key = `${provider}:${modelRoot}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = openModelFolder(modelRoot)
        .then((folder) => Pipeline.load(folder, { provider, ...(this.options.threads ? { threads: this.options.threads } : {}) }))
        .then((loaded) => {
          this.options.onDidLoad?.({ modelRoot, modelId: loaded.model.id, provider: loaded.provider.name, fallbacks: loaded.provider.fallbacks });
          return loaded;
        });
      // A failed load (bad model, missing provider) must not be cached: the user may fix it and retry.
      pipeline.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  clear(): void {
    this.pipelines.clear();
  }
}
