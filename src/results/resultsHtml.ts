// The results webview's document: strict CSP with a per-load nonce; scripts and styles only from dist/ and media/.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function resultsHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'results.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'results.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} blob: data:`,
    // The toolkit (FAST) probes :focus-visible with a <style> element carrying the csp-nonce meta's nonce.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Prompt Lens Results</title>
</head>
<body>
<div id="status" class="status" role="status" hidden>
  <vscode-progress-ring id="busy"></vscode-progress-ring>
  <span id="status-text"></span>
  <vscode-button id="cancel" appearance="secondary" hidden>Cancel</vscode-button>
</div>
<p id="empty" class="muted">Run “Prompt Lens: Generate” on a line of a .prompt file to see its image and attention maps here.</p>
<main id="result" hidden>
  <header>
    <h1 id="prompt"></h1>
    <p id="meta" class="muted"></p>
    <vscode-button id="reveal" appearance="secondary">Open run folder</vscode-button>
  </header>
  <section class="top">
    <figure class="hero">
      <canvas id="overlay" role="img" aria-label="generated image with the selected word's attention"></canvas>
      <figcaption>
        <span id="legend-word"></span>
        <span class="scale" aria-hidden="true"></span>
        <span class="muted">0 … <span id="legend-max"></span></span>
      </figcaption>
    </figure>
    <div>
      <h2>Words</h2>
      <div id="chips" class="chips" role="toolbar" aria-label="words of the prompt"></div>
      <section id="scores-section">
        <h2>Scores</h2>
        <table id="scores"></table>
        <figure class="overlap">
          <canvas id="overlap-map" role="img" aria-label="per-pixel overlap of the object maps"></canvas>
          <figcaption class="muted">per-pixel overlap ∏M / ΣM</figcaption>
        </figure>
      </section>
    </div>
  </section>
  <vscode-divider></vscode-divider>
  <h2>Attention per word</h2>
  <div id="maps" class="maps"></div>
</main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
