// The webviews' documents: strict CSP with a per-load nonce; scripts and styles only from dist/ and
// media/; pictures arrive as bytes (blob: URLs), so no run folder is a resource root.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

function page(webview: vscode.Webview, extensionUri: vscode.Uri, view: 'results' | 'sidebar', title: string, body: string): string {
  const nonce = randomBytes(16).toString('base64');
  // One bundle for both webviews; it picks its view from body[data-view].
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
<title>${title}</title>
</head>
<body data-view="${view}">
${body}
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export function resultsHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(
    webview,
    extensionUri,
    'results',
    'Prompt Lens Results',
    `<div id="status" class="status" role="status" hidden>
  <vscode-progress-ring id="busy"></vscode-progress-ring>
  <span id="status-text"></span>
  <vscode-button id="cancel" appearance="secondary" hidden>Cancel</vscode-button>
</div>
<p id="empty" class="muted">Run “Prompt Lens: Generate” on a line of a .prompt file to see its image and attention maps here; “Finetune” or “Compare” shows the model before and after a Separate-and-Enhance finetune.</p>
<main id="result" hidden>
  <header class="head">
    <div>
      <h1 id="prompt"></h1>
      <p id="meta" class="muted"></p>
    </div>
    <div class="actions">
      <vscode-button id="export" appearance="secondary" title="Save this view as a PNG image">Export PNG</vscode-button>
      <vscode-button id="reveal" appearance="secondary" title="Reveal the run folder">Reveal run folder</vscode-button>
    </div>
  </header>
  <div id="verdict" class="verdict-line" role="status" aria-live="polite"></div>
  <div id="seed-strip" class="seed-strip" role="group" aria-label="the runs of this Generate, one per seed" hidden></div>
  <section class="top run-top">
    <figure class="hero">
      <canvas id="overlay" role="img" aria-label="generated image with the selected word's attention"></canvas>
      <figcaption id="legend">
        <span id="legend-word"></span>
        <span class="scale" aria-hidden="true"></span>
        <span class="muted" id="legend-range"></span>
      </figcaption>
      <div class="overlay-controls" role="group" aria-label="overlay">
        <span class="control"><label for="ov-mode">Show</label>
        <select id="ov-mode" class="select" title="What is drawn over the image (click the selected word to switch the overlay off and on)">
          <option value="heat">heat</option>
          <option value="contour">contours</option>
          <option value="image">image only</option>
        </select></span>
        <span class="control"><label for="ov-opacity">Opacity</label>
        <input type="range" id="ov-opacity" min="0" max="100" value="75" aria-label="overlay opacity"></span>
      </div>
    </figure>
    <div class="side">
      <h2 class="first">Words</h2>
      <div id="chips" class="chips" role="toolbar" aria-label="words of the prompt"></div>
      <div class="step-row" id="step-row">
        <label for="step">Step</label>
        <input type="range" id="step" min="0" max="0" value="0" aria-describedby="step-label">
        <span id="step-label" class="muted"></span>
      </div>
      <h2>Attention per word</h2>
      <div id="maps" class="maps"></div>
    </div>
  </section>
  <div id="filters" class="filters" role="group" aria-label="which attention the maps aggregate">
    <span class="field"><label for="f-layer">Layers</label>
    <select id="f-layer" class="select"></select></span>
    <span class="field"><label for="f-head">Heads</label>
    <select id="f-head" class="select"></select></span>
    <span class="field"><label for="f-from">Steps</label>
    <input id="f-from" class="input step-input" type="number" min="1" step="1" aria-label="first step"> – <input id="f-to" class="input step-input" type="number" min="1" step="1" aria-label="last step"></span>
    <span class="field"><label for="f-scale">Scale</label>
    <select id="f-scale" class="select" title="Display only">
      <option value="map">each map by its own max</option>
      <option value="shared">shared: the largest word map</option>
    </select></span>
  </div>
  <p id="recipe" class="muted small"></p>
  <section id="step-plot" class="step-plot" aria-labelledby="step-plot-title" hidden>
    <h2 id="step-plot-title">Objects over the sampling steps</h2>
    <div id="step-plot-svg"></div>
  </section>
  <vscode-divider></vscode-divider>
  <section class="top">
    <section id="scores-section">
      <h2>Scores</h2>
      <table id="scores"></table>
      <div id="detection" class="detection"></div>
      <figure class="overlap">
        <canvas id="overlap-map" role="img" aria-label="per-pixel overlap of the object maps"></canvas>
        <figcaption class="muted" title="∏M / ΣM per pixel over the object maps: bright where the objects attend to the same pixels">where the objects' attention overlaps</figcaption>
      </figure>
    </section>
    <section id="analysis" class="top analysis" aria-label="attention analysis">
      <div>
        <h2>Object masks</h2>
        <div class="step-row">
          <label for="mask-threshold">Threshold</label>
          <input type="range" id="mask-threshold" min="5" max="95" step="5" value="40" aria-describedby="mask-threshold-label">
          <span id="mask-threshold-label" class="muted"></span>
        </div>
        <div id="masks" class="mask-grid"></div>
      </div>
      <div>
        <h2 id="matrix-title">Pairwise overlap</h2>
        <table id="matrix" class="matrix" tabindex="0" aria-labelledby="matrix-title"></table>
        <p class="muted small">Above the diagonal: IoU. Below: intersection over the row object's area. Diagonal: mask area. Lower is better (0: separate).</p>
      </div>
    </section>
  </section>
</main>
<main id="compare" hidden>
  <header class="head">
    <div>
      <h1 id="c-title"></h1>
      <p id="c-meta" class="muted"></p>
    </div>
    <div class="actions">
      <label for="c-which" class="muted" id="c-which-label">Prompt</label>
      <select id="c-which" class="select"></select>
      <vscode-button id="c-export" appearance="secondary" title="Save this view as a PNG image">Export PNG</vscode-button>
      <vscode-button id="c-reveal" appearance="secondary" title="Reveal the finetune folder">Reveal run folder</vscode-button>
    </div>
  </header>
  <div id="c-verdict" class="verdict-line" role="status" aria-live="polite"></div>
  <section class="pair">
    <figure class="side-image">
      <figcaption><strong>Base</strong> <span id="c-before-verdict" class="verdict"></span></figcaption>
      <canvas id="c-before" role="img" aria-label="image with the base keys"></canvas>
    </figure>
    <figure class="side-image">
      <figcaption><strong>Finetuned</strong> <span id="c-after-verdict" class="verdict"></span></figcaption>
      <canvas id="c-after" role="img" aria-label="image with the finetuned keys"></canvas>
    </figure>
    <div>
      <h2 class="first">Scores</h2>
      <table id="c-scores" class="deltas"></table>
    </div>
  </section>
  <section class="top">
    <figure class="side-image">
      <figcaption><span class="muted">base ◀ drag ▶ finetuned</span></figcaption>
      <canvas id="c-reveal-canvas" class="reveal-canvas" role="img" aria-label="base and finetuned images split by the slider"></canvas>
      <input type="range" id="c-reveal-slider" min="0" max="100" value="50" aria-label="split between the base image (left) and the finetuned image (right)">
    </figure>
    <div>
      <h2 class="first">Words</h2>
      <div id="c-chips" class="chips" role="toolbar" aria-label="words of the prompt"></div>
      <div class="step-row" id="c-step-row">
        <label for="c-step">Step</label>
        <input type="range" id="c-step" min="0" max="0" value="0" aria-describedby="c-step-label">
        <span id="c-step-label" class="muted"></span>
      </div>
    </div>
  </section>
  <section class="top">
    <div>
      <h2>Detector</h2>
      <table id="c-detect" class="deltas"></table>
    </div>
    <div id="c-masks-section">
      <h2>Object masks <span class="muted small">each object's map at 0.4 of its max</span></h2>
      <p class="muted small">base</p>
      <div id="c-masks-before" class="mask-grid"></div>
      <p class="muted small">finetuned</p>
      <div id="c-masks-after" class="mask-grid"></div>
    </div>
    <div>
      <h2>Per-pixel overlap</h2>
      <div class="pair small">
        <figure class="overlap"><canvas id="c-overlap-before" role="img" aria-label="overlap before"></canvas><figcaption class="muted">base</figcaption></figure>
        <figure class="overlap"><canvas id="c-overlap-after" role="img" aria-label="overlap after"></canvas><figcaption class="muted">finetuned</figcaption></figure>
      </div>
    </div>
    <div>
      <section id="c-curve-section">
        <h2>Training loss</h2>
        <canvas id="c-curve" class="curve" role="img" aria-label="loss per training step"></canvas>
        <p id="c-curve-label" class="muted"></p>
      </section>
    </div>
  </section>
</main>`,
  );
}

export function sidebarHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(
    webview,
    extensionUri,
    'sidebar',
    'Prompt Lens Runs',
    `<section aria-labelledby="h-model">
  <h3 id="h-model">Model</h3>
  <p id="model" class="muted">No run yet.</p>
</section>
<section aria-labelledby="h-file">
  <h3 id="h-file">Run settings</h3>
  <p id="file" class="muted">Open a .prompt file.</p>
  <table id="settings" class="settings"></table>
  <vscode-button id="generate" appearance="primary" title="Generate the prompt under the cursor (F5)">▶ Generate</vscode-button>
</section>
<section aria-labelledby="h-queue">
  <h3 id="h-queue">Queue</h3>
  <ul id="queue" class="list"></ul>
  <p id="queue-empty" class="muted">Nothing running.</p>
</section>
<section aria-labelledby="h-finetune">
  <h3 id="h-finetune">Finetune</h3>
  <div class="form">
    <label for="ft-steps">Steps <span id="ft-steps-source" class="muted"></span></label><input id="ft-steps" class="input" type="number" min="1" max="100000" step="1">
    <label for="ft-lr">Learning rate <span id="ft-lr-source" class="muted"></span></label><input id="ft-lr" class="input" type="number" min="0" step="any">
  </div>
  <vscode-button id="finetune" title="Separate-and-Enhance finetune on the active .prompt file">Start Finetune</vscode-button>
</section>
<section aria-labelledby="h-keys">
  <h3 id="h-keys">Key sets</h3>
  <ul id="keysets" class="list"></ul>
  <p id="keysets-empty" class="muted">None yet: run Finetune.</p>
</section>
<section aria-labelledby="h-history">
  <h3 id="h-history">History</h3>
  <ul id="history" class="list history"></ul>
  <p id="history-empty" class="muted">No runs in this runs folder yet.</p>
</section>`,
  );
}
