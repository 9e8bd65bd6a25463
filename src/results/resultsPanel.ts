// The one results panel: created on first use, then reused in place (it stays where the user moved
// it). It remembers what it shows by folder (a ViewRef), so closing and reopening it, or reloading the
// window (WebviewPanelSerializer), brings the same view back, loaded again from the run folder.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import { isWithin, realPathOf } from '../engine/files/containment';
import { pathExists } from '../engine/files/stagedFolder';
import { VIEWS } from '../ids';
import { checkedFilter } from '../shared/analysis';
import type { HostToWebview, MapFilter, RenderedState, ResultsWebviewState, ViewRef, WebviewToHost } from '../shared/protocol';
import { packMessage, unpackMessage, type PackedMessage } from '../shared/packedMessage';
import { loadCompareView, loadRunView } from './runView';
import { checkedViewRef, exportFileName, isInside } from './folders';
import { resultsHtml } from './resultsHtml';

export interface ResultsPanelOptions {
  /** Whether a folder the webview names (its saved state, a restore request) may be loaded. */
  mayRestore(folder: string): Promise<boolean>;
  log: vscode.LogOutputChannel;
}

export class ResultsPanel extends Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** Messages posted before the webview said it is ready (its script loads asynchronously). */
  private pending: HostToWebview[] = [];
  /** What the panel shows (or last showed): reloaded from disk when the panel is opened again. */
  private current: ViewRef | undefined;
  private readonly rendered = this._register(new vscode.EventEmitter<RenderedState>());
  /** Fires when the webview has drawn a view: what it actually shows. */
  readonly onDidRender = this.rendered.event;
  private readonly exported = this._register(new vscode.EventEmitter<string>());
  /** Fires with the file an export was saved to. */
  readonly onDidExport = this.exported.event;
  private readonly cancelAsked = this._register(new vscode.EventEmitter<string>());
  /** The webview's cancel button, with the job's id. */
  readonly onDidAskCancel = this.cancelAsked.event;
  private readonly filterAsked = this._register(new vscode.EventEmitter<{ folder: string; filter: MapFilter }>());
  /** The webview asks to show the shown run with its display maps filtered. */
  readonly onDidAskFilterMaps = this.filterAsked.event;
  private readonly seedRunAsked = this._register(new vscode.EventEmitter<string>());
  /** The webview asks for another seed's run (its folder) of the shown Generate. */
  readonly onDidAskSeedRun = this.seedRunAsked.event;
  /** Tests: save the next export here instead of asking (refused when the file exists). */
  exportTarget: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly options: ResultsPanelOptions,
  ) {
    super();
  }

  /** Restores the panel after a window reload. */
  serializer(): vscode.WebviewPanelSerializer<ResultsWebviewState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        // The state is the webview's: its folder is checked like any request from it.
        const ref = await this.acceptedRef(state?.ref);
        if (ref) this.current = ref;
        this.adopt(panel);
      },
    };
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  show(): void {
    if (this.panel) {
      // No column: the panel stays where the user put it.
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEWS.results,
      'Prompt Lens Results',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true },
    );
    this.adopt(panel);
  }

  /** Opens the panel showing what it showed last (if anything). */
  reopen(): void {
    const wasOpen = this.panel !== undefined;
    this.show();
    if (!wasOpen && this.current) void this.load(this.current);
  }

  /** Shows the run or finetune folder `ref`, loaded from disk. */
  async open(ref: ViewRef): Promise<void> {
    this.show();
    await this.load(ref);
  }

  /** Shows `message` (a result or compare view) and remembers `ref` to load it again later. */
  showView(ref: ViewRef, message: HostToWebview): void {
    this.current = ref;
    this.post(message);
  }

  post(message: HostToWebview): void {
    if (!this.panel) this.show();
    if (!this.ready) {
      this.pending.push(message);
      return;
    }
    void this.panel?.webview.postMessage(packMessage(message));
  }

  private adopt(panel: vscode.WebviewPanel): void {
    // Scripts and styles from dist/ and media/ only; run pictures travel as bytes in messages.
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.html = resultsHtml(panel.webview, this.extensionUri);
    panel.webview.onDidReceiveMessage((packed: PackedMessage<WebviewToHost>) => this.receive(unpackMessage(packed)));
    panel.onDidDispose(() => {
      if (this.panel === panel) {
        this.panel = undefined;
        this.ready = false;
        this.pending = [];
      }
    });
    this.panel = panel;
    this.ready = false;
  }

  private async load(ref: ViewRef): Promise<void> {
    try {
      if (ref.kind === 'run') {
        const run = await loadRunView(ref.folder);
        this.showView(ref, { type: 'result', run });
      } else {
        const view = await loadCompareView(ref.folder);
        if (ref.initial !== undefined && ref.initial < view.comparisons.length) view.initial = ref.initial;
        this.showView(ref, { type: 'compare', view });
      }
    } catch (error) {
      const message = `cannot show ${ref.folder}: ${error instanceof Error ? error.message : String(error)}`;
      this.options.log.warn(message);
      this.post({ type: 'runFailed', runId: '', message });
    }
  }

  private receive(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        const queued = this.pending.splice(0);
        for (const m of queued) void this.panel?.webview.postMessage(packMessage(m));
        // A fresh webview (reopened, reloaded) with nothing new to show: bring back the last view.
        const shows = queued.some((m) => m.type === 'result' || m.type === 'compare' || m.type === 'runStarted');
        if (shows) break;
        if (this.current) void this.load(this.current);
        else void this.acceptedRef(message.restore).then((ref) => ref && this.load(ref));
        break;
      }
      case 'rendered':
        this.rendered.fire(message.state);
        break;
      case 'cancel':
        this.cancelAsked.fire(message.runId);
        break;
      case 'filterMaps': {
        // Only the run the panel shows, and only a well-formed filter (the engine checks the rest).
        const filter = checkedFilter(message.filter);
        if (this.current?.kind === 'run' && message.runFolder === this.current.folder && filter) this.filterAsked.fire({ folder: message.runFolder, filter });
        break;
      }
      case 'revealRunFolder':
        void this.reveal(message.folder);
        break;
      case 'openSeedRun':
        if (typeof message.runFolder === 'string') this.seedRunAsked.fire(message.runFolder);
        break;
      case 'exportPng':
        void this.saveExport(message.png, message.name);
        break;
    }
  }

  /** A view reference from the webview, when well-formed and naming a folder it may name (else undefined). */
  private async acceptedRef(value: unknown): Promise<ViewRef | undefined> {
    const ref = checkedViewRef(value);
    if (!ref) return undefined;
    if (await this.options.mayRestore(ref.folder)) return ref;
    this.options.log.warn(`The results view asked for ${ref.folder}, which is neither in the workspace nor a folder shown in this window; not loaded.`);
    return undefined;
  }

  private async reveal(folder: string | undefined): Promise<void> {
    const shown = this.current?.folder;
    if (typeof folder !== 'string' || !shown || !isInside(folder, shown)) return;
    // By real path too: a symlink inside the shown folder does not lead the reveal out of it.
    if (!isWithin(await realPathOf(folder), await realPathOf(shown))) return;
    const uri = vscode.Uri.file(folder);
    // Desktop: the OS file manager. Web (code-server): the explorer, when the folder is in the workspace.
    if (vscode.env.uiKind === vscode.UIKind.Desktop) await vscode.commands.executeCommand('revealFileInOS', uri);
    else if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else void vscode.window.showInformationMessage(`Prompt Lens: the run folder is ${folder}`);
  }

  /** Asks the webview for a PNG of what it shows; resolves with the saved file (undefined if none). */
  requestExport(): Promise<string | undefined> {
    if (!this.panel) {
      void vscode.window.showInformationMessage('Prompt Lens: nothing to export; run Generate, Finetune or Compare, or open a run from the Prompt Lens view.');
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const done = this.exported.event((file) => {
        done.dispose();
        clearTimeout(timer);
        resolve(file);
      });
      const timer = setTimeout(() => {
        done.dispose();
        resolve(undefined);
      }, 30_000);
      this.post({ type: 'exportRequest' });
    });
  }

  private async saveExport(png: ArrayBuffer, name: string): Promise<void> {
    const safeName = exportFileName(name);
    let target: vscode.Uri | undefined;
    if (this.exportTarget) {
      target = vscode.Uri.file(this.exportTarget);
      this.exportTarget = undefined;
      if (await pathExists(target.fsPath)) {
        // Never overwrite silently: without a dialog to confirm, refuse.
        void vscode.window.showErrorMessage(`Prompt Lens: ${target.fsPath} exists; not overwritten.`);
        this.exported.fire('');
        return;
      }
    } else {
      const base = this.current?.folder ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      // The save dialog asks before replacing an existing file.
      target = await vscode.window.showSaveDialog({
        title: 'Export Prompt Lens view as PNG',
        saveLabel: 'Export',
        filters: { 'PNG image': ['png'] },
        ...(base ? { defaultUri: vscode.Uri.file(path.join(base, safeName)) } : {}),
      });
    }
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new Uint8Array(png));
    this.options.log.info(`Exported the view to ${target.fsPath}`);
    this.exported.fire(target.fsPath);
  }

  override dispose(): void {
    this.panel?.dispose();
    super.dispose();
  }
}

