// The model and execution provider the last job loaded or ran, for the sidebar: known as soon as a pipeline
// loads (before its first step), updated after each job.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import type { LoadedPipelineInfo } from '../engine/pipeline/pipelineCache';

export interface ModelInUseView {
  id: string;
  provider: string;
  fallbacks: string[];
}

export class ModelInUse extends Disposable {
  current: ModelInUseView | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<ModelInUseView>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
  }

  /** A pipeline finished loading: logged with the providers it skipped. */
  loaded(info: LoadedPipelineInfo): void {
    this.log.info(`Loaded ${info.modelId} on ${info.provider} (${info.modelRoot})`);
    for (const fallback of info.fallbacks) this.log.warn(`Provider skipped: ${fallback}`);
    this.log.info(`UNet graph: ${info.unetGraph}`);
    this.set({ id: info.modelId, provider: info.provider, fallbacks: info.fallbacks });
  }

  /** A job ran on this model (its fallbacks were logged when the pipeline loaded). */
  used(result: { model: { id: string }; provider: { name: string; fallbacks: string[] } }): void {
    this.set({ id: result.model.id, provider: result.provider.name, fallbacks: result.provider.fallbacks });
  }

  private set(model: ModelInUseView): void {
    this.current = model;
    this.changed.fire(model);
  }
}
