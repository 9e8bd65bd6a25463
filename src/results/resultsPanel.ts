// The one results panel: created on first use, then reused in place (it stays where the user moved it).
import * as vscode from 'vscode';
import type { HostToWebview, RenderedState, WebviewToHost } from '../protocol/messages';
import { resultsHtml } from './resultsHtml';

export interface ResultsPanelEvents {
  onCancel(runId: string): void;
  onRevealRunFolder(runId: string): void;
}

export class ResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** Messages posted before the webview said it is ready (its script loads asynchronously). */
  private pending: HostToWebview[] = [];
  private readonly rendered = new vscode.EventEmitter<RenderedState>();
  /** Fires when the webview has drawn a run: what it actually shows. */
  readonly onDidRender = this.rendered.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly events: ResultsPanelEvents,
  ) {}

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      'promptLens.results',
      'Prompt Lens Results',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
      },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    panel.webview.html = resultsHtml(panel.webview, this.extensionUri);
    panel.webview.onDidReceiveMessage((message: WebviewToHost) => this.receive(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.pending = [];
    });
    this.panel = panel;
  }

  post(message: HostToWebview): void {
    if (!this.panel) this.show();
    if (!this.ready) {
      this.pending.push(message);
      return;
    }
    void this.panel?.webview.postMessage(message);
  }

  private receive(message: WebviewToHost): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        for (const queued of this.pending.splice(0)) void this.panel?.webview.postMessage(queued);
        break;
      case 'rendered':
        this.rendered.fire(message.state);
        break;
      case 'cancel':
        this.events.onCancel(message.runId);
        break;
      case 'revealRunFolder':
        this.events.onRevealRunFolder(message.runId);
        break;
    }
  }

  dispose(): void {
    this.panel?.dispose();
    this.rendered.dispose();
  }
}
