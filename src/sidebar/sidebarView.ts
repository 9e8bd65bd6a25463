// The sidebar run panel (a WebviewView in the Prompt Lens activity-bar container): the model in use,
// the active .prompt file's run settings, the run queue, finetune controls, saved key sets and the run
// history with thumbnails. It sends state; the commands do the work.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { affectsSetting, runsFolderOf, userFinetuneSettings } from '../config';
import { Disposable } from '../disposable';
import { findKeySets, findRuns, thumbnailPng } from '../engine/history';
import { RUN_IMAGE } from '../engine/record/files';
import { readRunRecord } from '../engine/record/read';
import { readModelFinetune } from '../engine/model/modelDefaults';
import { resolveFinetuneSettings } from '../engine/finetune/finetuneSettings';
import { parsePromptFile, resolveSettings } from '../engine/promptFile';
import { COMMANDS, LANGUAGE_ID } from '../ids';
import type { HistoryItem, KeySetItem, SidebarState, SidebarToHost, SidebarToWebview } from '../shared/protocol';
import { packMessage, unpackMessage, type PackedMessage } from '../shared/packedMessage';
import type { ResultsPanel } from '../results/resultsPanel';
import { sidebarHtml } from '../results/resultsHtml';
import type { JobQueue } from '../run/jobQueue';
import type { JobResults } from '../run/jobResults';
import type { ModelInUse } from '../run/modelInUse';
import type { PromptModels } from '../run/promptModels';
import { EDITABLE_SETTINGS, frontMatterEdit, settingValueProblem } from './frontMatterEdit';
import { finetuneState, settingRows } from './settingRows';

const HISTORY_LIMIT = 20;
const THUMBNAIL_SIDE = 64;

export interface SidebarRendered {
  history: string[];
  keySets: string[];
  jobs: string[];
  model?: string;
}

/** What the sidebar shows and where it sends requests. */
export interface SidebarSources {
  modelInUse: ModelInUse;
  results: JobResults;
  promptModels: PromptModels;
  queue: JobQueue;
  panel: ResultsPanel;
}

export class SidebarView extends Disposable implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  /** The .prompt editor the panel is about (the last one that was active). */
  private editor: vscode.TextEditor | undefined;
  private readonly thumbnails = new Map<string, ArrayBuffer | undefined>();
  private readonly modelHashes = new Map<string, Promise<string | undefined>>();
  private shown: SidebarState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly renderedEmitter = this._register(new vscode.EventEmitter<SidebarRendered>());
  /** Fires when the sidebar webview has drawn its lists (tests). */
  readonly onDidRender = this.renderedEmitter.event;
  lastRendered: SidebarRendered | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sources: SidebarSources,
  ) {
    super();
    this.editor = promptEditor(vscode.window.activeTextEditor);
    for (const listener of [
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        const prompt = promptEditor(editor);
        if (prompt) {
          this.editor = prompt;
          this.schedule();
        }
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === this.editor) this.schedule(300);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.editor?.document) this.schedule(500);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSetting(e)) this.schedule();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
      sources.results.onDidWrite(() => this.schedule(0)),
      sources.modelInUse.onDidChange(() => this.schedule(0)),
      sources.queue.onDidChange((jobs) => this.post({ type: 'jobs', jobs })),
    ]) {
      this._register(listener);
    }
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.webview.html = sidebarHtml(view.webview, this.extensionUri);
    view.webview.onDidReceiveMessage((packed: PackedMessage<SidebarToHost>) => void this.receive(unpackMessage(packed)));
    view.onDidChangeVisibility(() => {
      if (view.visible) this.schedule(0);
    });
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  /** Re-reads everything shortly (debounced). */
  schedule(ms = 150): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), ms);
  }

  async refresh(): Promise<void> {
    if (!this.view || !this.ready) return;
    const state = await this.state();
    this.shown = state;
    this.post({ type: 'state', state });
    this.post({ type: 'jobs', jobs: this.sources.queue.views() });
  }

  private post(message: SidebarToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(packMessage(message));
  }

  private async state(): Promise<SidebarState> {
    const userSettings = userFinetuneSettings(this.editor?.document.uri);
    const state: SidebarState = {
      ...(this.sources.modelInUse.current ? { model: this.sources.modelInUse.current } : {}),
      trusted: vscode.workspace.isTrusted,
      history: [],
      keySets: [],
      finetune: finetuneState(resolveFinetuneSettings({ userSettings })),
    };
    const document = this.editor?.document;
    if (!document || document.isClosed || document.uri.scheme !== 'file') return state;
    const file = document.uri.fsPath;
    const text = document.getText();
    const parsed = parsePromptFile(text, file);
    const line = this.editor?.selection.active.line ?? 0;
    const prompt = parsed.prompts.find((p) => p.line >= line) ?? parsed.prompts[parsed.prompts.length - 1];
    // A model that cannot be resolved (or a bad defaults file) fails the run with its own message; until then, the engine's defaults.
    const resolved = await this.sources.promptModels.fileSettings(file, parsed.settings).catch(() => resolveSettings(parsed.settings));
    state.file = { name: vscode.workspace.asRelativePath(document.uri), settings: settingRows(resolved), ...(prompt ? { prompt: prompt.text } : {}) };
    if ('modelRoot' in resolved) {
      const model = await readModelFinetune(resolved.modelRoot).catch(() => ({}));
      state.finetune = finetuneState(resolveFinetuneSettings({ userSettings, model }));
    }
    const runsDir = runsFolderOf(document.uri);
    state.runsDir = runsDir;
    const [runs, keySets, hash] = await Promise.all([
      findRuns(runsDir).catch(() => []),
      findKeySets(runsDir).catch(() => []),
      this.modelHash(file, text, resolved.values.model),
    ]);
    state.history = await Promise.all(
      runs.slice(0, HISTORY_LIMIT).map(async (run): Promise<HistoryItem> => {
        const thumbnail = await this.thumbnail(run.folder, run.files.image);
        return {
          folder: run.folder,
          id: run.id,
          prompt: run.prompt,
          createdAt: run.createdAt,
          ...(run.settings.seed !== undefined ? { seed: run.settings.seed } : {}),
          ...(run.settings.steps !== undefined ? { steps: run.settings.steps } : {}),
          ...(run.scores && Number.isFinite(run.scores.overlap) ? { overlap: run.scores.overlap } : {}),
          ...(thumbnail ? { thumbnail } : {}),
          ...(run.filtered ? { filtered: run.filtered } : {}),
        };
      }),
    );
    // No job in this window yet: the model and provider of the newest run on disk.
    if (!state.model && runs[0]) {
      const last = await this.lastRunModel(runs[0].folder);
      if (last) state.model = last;
    }
    state.keySets = keySets.map(
      (k): KeySetItem => ({
        file: k.file,
        folder: k.folder,
        id: k.id,
        model: k.model.id,
        prompts: k.trainedPrompts,
        steps: k.steps,
        lr: k.lr,
        ...(k.finalLoss !== undefined ? { finalLoss: k.finalLoss } : {}),
        matchesFile: hash !== undefined && k.model.hash === hash,
      }),
    );
    return state;
  }

  private async lastRunModel(folder: string): Promise<SidebarState['model']> {
    try {
      const json = await readRunRecord(folder);
      if (!json.model?.id || !json.provider?.name) return undefined;
      return { id: json.model.id, provider: json.provider.name, fallbacks: json.provider.fallbacks ?? [], fromHistory: true };
    } catch {
      return undefined;
    }
  }

  private modelHash(file: string, text: string, model: string): Promise<string | undefined> {
    const key = `${file}\n${model}\n${vscode.workspace.isTrusted}`;
    let hash = this.modelHashes.get(key);
    if (!hash) {
      hash = this.sources.promptModels.modelOf(file, text).then(
        (m) => m.hash,
        () => undefined,
      );
      this.modelHashes.set(key, hash);
    }
    return hash;
  }

  private async thumbnail(folder: string, image: string | undefined): Promise<ArrayBuffer | undefined> {
    if (this.thumbnails.has(folder)) return this.thumbnails.get(folder);
    let result: ArrayBuffer | undefined;
    try {
      const bytes = thumbnailPng(await fs.readFile(path.join(folder, path.basename(image ?? RUN_IMAGE))), THUMBNAIL_SIDE);
      result = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    } catch {
      result = undefined;
    }
    this.thumbnails.set(folder, result);
    return result;
  }

  private async receive(message: SidebarToHost): Promise<void> {
    const editor = this.editor;
    const uri = editor?.document.uri;
    const line = editor?.selection.active.line ?? 0;
    switch (message.type) {
      case 'ready':
        this.ready = true;
        await this.refresh();
        break;
      case 'rendered':
        this.lastRendered = { history: message.history, keySets: message.keySets, jobs: message.jobs, ...(message.model ? { model: message.model } : {}) };
        this.renderedEmitter.fire(this.lastRendered);
        break;
      case 'cancel':
        this.sources.queue.cancel(message.jobId);
        break;
      case 'openRun':
        // Only folders this panel listed.
        if (this.shown?.history.some((h) => h.folder === message.folder)) await this.sources.panel.open({ kind: 'run', folder: message.folder });
        break;
      case 'openFinetune':
        if (this.shown?.keySets.some((k) => k.folder === message.folder)) await this.sources.panel.open({ kind: 'compare', folder: message.folder });
        break;
      case 'generate':
        if (uri) await vscode.commands.executeCommand(COMMANDS.generate, uri, line);
        break;
      case 'finetune':
        if (uri) await vscode.commands.executeCommand(COMMANDS.finetune, uri, line, { steps: message.steps, lr: message.lr });
        break;
      case 'setSetting':
        if (editor && EDITABLE_SETTINGS.includes(message.key)) await this.setSetting(editor.document, message.key, message.value);
        break;
      case 'compare':
        if (uri && this.shown?.keySets.some((k) => k.file === message.keySetFile)) {
          await vscode.commands.executeCommand(COMMANDS.compare, uri, line, message.keySetFile);
        }
        break;
    }
  }

  /** Writes seed/steps/guidance into the file's front matter (undoable, not saved). */
  private async setSetting(document: vscode.TextDocument, key: 'seed' | 'steps' | 'guidance', value: number): Promise<void> {
    const problem = settingValueProblem(key, value);
    if (problem) {
      void vscode.window.showWarningMessage(`Prompt Lens: ${problem}.`);
      this.schedule(0);
      return;
    }
    const e = frontMatterEdit(document.getText(), key, value);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(e.line, e.column, e.endLine, e.endColumn), e.newText);
    await vscode.workspace.applyEdit(edit);
    this.schedule(0);
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
  }
}

function promptEditor(editor: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  return editor && editor.document.languageId === LANGUAGE_ID ? editor : undefined;
}
