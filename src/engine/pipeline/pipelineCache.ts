// The loaded pipeline, reused across runs: sessions are expensive to create (and the instrumented graph
// is written once). Only one is kept: asking for another model or provider releases the previous one,
// since a Stable Diffusion pipeline holds several GB. Jobs run one at a time (the run queue; the CLI runs
// one command), so the released pipeline is idle.
import { openModelFolder } from '../model/modelFolder';
import type { CacheLocation } from '../onnx/cache';
import type { ProviderChoice } from '../session/providers';
import { Pipeline } from './pipeline';

export interface LoadedPipelineInfo {
  modelRoot: string;
  modelId: string;
  provider: string;
  /** Why faster providers were skipped. */
  fallbacks: string[];
  /** Which UNet graph runs: folded or not, and why (Pipeline.unetGraph). */
  unetGraph: string;
}

export interface PipelineCacheOptions {
  /** Called once each time a pipeline finishes loading (e.g. to show the model and provider in use). */
  onDidLoad?(info: LoadedPipelineInfo): void;
  threads?: number;
  /** Where instrumented copies go when a model's folder is not writable (default: the user's cache folder). */
  cache?: CacheLocation;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<Pipeline>>();

  constructor(private readonly options: PipelineCacheOptions = {}) {}

  get(modelRoot: string, provider: ProviderChoice): Promise<Pipeline> {
    const key = `${provider}:${modelRoot}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      this.clear();
      pipeline = openModelFolder(modelRoot)
        .then((folder) =>
          Pipeline.load(folder, {
            provider,
            ...(this.options.threads ? { threads: this.options.threads } : {}),
            ...(this.options.cache ? { cache: this.options.cache } : {}),
          }),
        )
        .then((loaded) => {
          this.options.onDidLoad?.({ modelRoot, modelId: loaded.model.id, provider: loaded.provider.name, fallbacks: loaded.provider.fallbacks, unetGraph: loaded.unetGraph.note });
          return loaded;
        });
      // A failed load (bad model, missing provider) must not be cached: the user may fix it and retry.
      pipeline.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Releases every loaded pipeline (in the background: nothing waits on the memory being freed). */
  clear(): void {
    for (const pipeline of this.pipelines.values()) pipeline.then((p) => p.release()).catch(() => undefined);
    this.pipelines.clear();
  }

  /** Releases the pipelines when their owner goes (the extension deactivating): vscode.Disposable's shape, without vscode. */
  dispose(): void {
    this.clear();
  }
}
