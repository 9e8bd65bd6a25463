// What the jobs of this window wrote: the folders (the results panel may load them again), an event per
// written folder (the sidebar's history and key sets change) and one per finished job.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import type { JobKind } from '../shared/protocol';

export interface CompletedRun {
  runId: string;
  runFolder: string;
}

export class JobResults extends Disposable {
  private readonly folders = new Set<string>();
  private readonly written = this._register(new vscode.EventEmitter<{ kind: JobKind; folder: string }>());
  /** Fires when a job wrote a folder (history and key sets change). */
  readonly onDidWrite = this.written.event;
  private readonly completed = this._register(new vscode.EventEmitter<CompletedRun>());
  /** Fires with the run a Generate, Finetune, Compare or map filter ends showing. */
  readonly onDidComplete = this.completed.event;

  /** A job wrote `run`'s folder. */
  wrote(kind: JobKind, run: CompletedRun): void {
    this.folders.add(run.runFolder);
    this.written.fire({ kind, folder: run.runFolder });
  }

  /** The run a job ends showing; returned for the command's caller. */
  complete(run: CompletedRun): CompletedRun {
    this.completed.fire(run);
    return run;
  }

  /** Folders this window wrote or showed. */
  knownFolders(): string[] {
    return [...this.folders];
  }
}
