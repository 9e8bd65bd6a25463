// The webviews' documents: strict CSP with a per-load nonce; scripts and styles only from dist/ and
// media/; pictures arrive as bytes (blob: URLs), so no run folder is a resource root.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { RESULTS_ID, SIDEBAR_ID, WEBVIEW_KIND, type WebviewKind } from '../shared/webviewDom';

function page(webview: vscode.Webview, extensionUri: vscode.Uri, view: WebviewKind, title: string, body: string): string {
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
    WEBVIEW_KIND.results,
    'Prompt Lens Results',
    `<div id="${RESULTS_ID.status}" class="status" role="status" hidden>
  <vscode-progress-ring id="${RESULTS_ID.busy}"></vscode-progress-ring>
  <span id="${RESULTS_ID.statusText}"></span>
  <vscode-button id="${RESULTS_ID.cancel}" appearance="secondary" hidden>Cancel</vscode-button>
</div>
<p id="${RESULTS_ID.empty}" class="muted">Run “Prompt Lens: Generate” on a line of a .prompt file to see its image and attention maps here; “Finetune” or “Compare” shows the model before and after a Separate-and-Enhance finetune.</p>
<main id="${RESULTS_ID.run.view}" hidden>
  <header class="head">
    <div>
      <h1 id="${RESULTS_ID.run.prompt}"></h1>
      <p id="${RESULTS_ID.run.meta}" class="muted"></p>
    </div>
    <div class="actions">
      <vscode-button id="${RESULTS_ID.run.export}" appearance="secondary" title="Save this view as a PNG image">Export PNG</vscode-button>
      <vscode-button id="${RESULTS_ID.run.reveal}" appearance="secondary" title="Reveal the run folder">Reveal run folder</vscode-button>
    </div>
  </header>
  <div id="${RESULTS_ID.run.verdict}" class="verdict-line" role="status" aria-live="polite"></div>
  <div id="${RESULTS_ID.run.seedStrip}" class="seed-strip" role="group" aria-label="the runs of this Generate, one per seed" hidden></div>
  <section class="top run-top">
    <figure class="hero">
      <canvas id="${RESULTS_ID.run.overlay}" role="img" aria-label="generated image with the selected word's attention"></canvas>
      <figcaption id="${RESULTS_ID.run.legend}">
        <span id="${RESULTS_ID.run.legendWord}"></span>
        <span class="scale" aria-hidden="true"></span>
        <span class="muted" id="${RESULTS_ID.run.legendRange}"></span>
      </figcaption>
      <div class="overlay-controls" role="group" aria-label="overlay">
        <span class="control"><label for="${RESULTS_ID.run.overlayMode}">Show</label>
        <select id="${RESULTS_ID.run.overlayMode}" class="select" title="What is drawn over the image (click the selected word to switch the overlay off and on)">
          <option value="heat">heat</option>
          <option value="contour">contours</option>
          <option value="image">image only</option>
        </select></span>
        <span class="control"><label for="${RESULTS_ID.run.overlayOpacity}">Opacity</label>
        <input type="range" id="${RESULTS_ID.run.overlayOpacity}" min="0" max="100" value="75" aria-label="overlay opacity"></span>
      </div>
    </figure>
    <div class="side">
      <h2 class="first">Words</h2>
      <div id="${RESULTS_ID.run.chips}" class="chips" role="toolbar" aria-label="words of the prompt"></div>
      <div class="step-row" id="${RESULTS_ID.run.stepRow}">
        <label for="${RESULTS_ID.run.step}">Step</label>
        <input type="range" id="${RESULTS_ID.run.step}" min="0" max="0" value="0" aria-describedby="${RESULTS_ID.run.stepLabel}">
        <span id="${RESULTS_ID.run.stepLabel}" class="muted"></span>
      </div>
      <h2>Attention per word</h2>
      <div id="${RESULTS_ID.run.maps}" class="maps"></div>
    </div>
  </section>
  <div id="${RESULTS_ID.run.filters}" class="filters" role="group" aria-label="which attention the maps aggregate">
    <span class="field"><label for="${RESULTS_ID.run.layerFilter}">Layers</label>
    <select id="${RESULTS_ID.run.layerFilter}" class="select"></select></span>
    <span class="field"><label for="${RESULTS_ID.run.headFilter}">Heads</label>
    <select id="${RESULTS_ID.run.headFilter}" class="select"></select></span>
    <span class="field"><label for="${RESULTS_ID.run.firstStep}">Steps</label>
    <input id="${RESULTS_ID.run.firstStep}" class="input step-input" type="number" min="1" step="1" aria-label="first step"> – <input id="${RESULTS_ID.run.lastStep}" class="input step-input" type="number" min="1" step="1" aria-label="last step"></span>
    <span class="field"><label for="${RESULTS_ID.run.scale}">Scale</label>
    <select id="${RESULTS_ID.run.scale}" class="select" title="Display only">
      <option value="map">each map by its own max</option>
      <option value="shared">shared: the largest word map</option>
    </select></span>
  </div>
  <p id="${RESULTS_ID.run.recipe}" class="muted small"></p>
  <section id="${RESULTS_ID.run.stepPlot}" class="step-plot" aria-labelledby="${RESULTS_ID.run.stepPlotTitle}" hidden>
    <h2 id="${RESULTS_ID.run.stepPlotTitle}">Objects over the sampling steps</h2>
    <div id="${RESULTS_ID.run.stepPlotSvg}"></div>
  </section>
  <vscode-divider></vscode-divider>
  <section class="top">
    <section id="${RESULTS_ID.run.scoresSection}">
      <h2>Scores</h2>
      <table id="${RESULTS_ID.run.scores}"></table>
      <div id="${RESULTS_ID.run.detection}" class="detection"></div>
      <figure class="overlap">
        <canvas id="${RESULTS_ID.run.overlapMap}" role="img" aria-label="per-pixel overlap of the object maps"></canvas>
        <figcaption class="muted" title="∏M / ΣM per pixel over the object maps: bright where the objects attend to the same pixels">where the objects' attention overlaps</figcaption>
      </figure>
    </section>
    <section id="${RESULTS_ID.run.analysis}" class="top analysis" aria-label="attention analysis">
      <div>
        <h2>Object masks</h2>
        <div class="step-row">
          <label for="${RESULTS_ID.run.maskThreshold}">Threshold</label>
          <input type="range" id="${RESULTS_ID.run.maskThreshold}" min="5" max="95" step="5" value="40" aria-describedby="${RESULTS_ID.run.maskThresholdLabel}">
          <span id="${RESULTS_ID.run.maskThresholdLabel}" class="muted"></span>
        </div>
        <div id="${RESULTS_ID.run.masks}" class="mask-grid"></div>
      </div>
      <div>
        <h2 id="${RESULTS_ID.run.matrixTitle}">Pairwise overlap</h2>
        <table id="${RESULTS_ID.run.matrix}" class="matrix" tabindex="0" aria-labelledby="${RESULTS_ID.run.matrixTitle}"></table>
        <p class="muted small">Above the diagonal: IoU. Below: intersection over the row object's area. Diagonal: mask area. Lower is better (0: separate).</p>
      </div>
    </section>
  </section>
</main>
<main id="${RESULTS_ID.compare.view}" hidden>
  <header class="head">
    <div>
      <h1 id="${RESULTS_ID.compare.title}"></h1>
      <p id="${RESULTS_ID.compare.meta}" class="muted"></p>
    </div>
    <div class="actions">
      <label for="${RESULTS_ID.compare.which}" class="muted" id="${RESULTS_ID.compare.whichLabel}">Prompt</label>
      <select id="${RESULTS_ID.compare.which}" class="select"></select>
      <vscode-button id="${RESULTS_ID.compare.export}" appearance="secondary" title="Save this view as a PNG image">Export PNG</vscode-button>
      <vscode-button id="${RESULTS_ID.compare.reveal}" appearance="secondary" title="Reveal the finetune folder">Reveal run folder</vscode-button>
    </div>
  </header>
  <div id="${RESULTS_ID.compare.verdict}" class="verdict-line" role="status" aria-live="polite"></div>
  <section class="pair">
    <figure class="side-image">
      <figcaption><strong>Base</strong> <span id="${RESULTS_ID.compare.beforeVerdict}" class="verdict"></span></figcaption>
      <canvas id="${RESULTS_ID.compare.before}" role="img" aria-label="image with the base keys"></canvas>
    </figure>
    <figure class="side-image">
      <figcaption><strong>Finetuned</strong> <span id="${RESULTS_ID.compare.afterVerdict}" class="verdict"></span></figcaption>
      <canvas id="${RESULTS_ID.compare.after}" role="img" aria-label="image with the finetuned keys"></canvas>
    </figure>
    <div>
      <h2 class="first">Scores</h2>
      <table id="${RESULTS_ID.compare.scores}" class="deltas"></table>
    </div>
  </section>
  <section class="top">
    <figure class="side-image">
      <figcaption><span class="muted">base ◀ drag ▶ finetuned</span></figcaption>
      <canvas id="${RESULTS_ID.compare.revealCanvas}" class="reveal-canvas" role="img" aria-label="base and finetuned images split by the slider"></canvas>
      <input type="range" id="${RESULTS_ID.compare.revealSlider}" min="0" max="100" value="50" aria-label="split between the base image (left) and the finetuned image (right)">
    </figure>
    <div>
      <h2 class="first">Words</h2>
      <div id="${RESULTS_ID.compare.chips}" class="chips" role="toolbar" aria-label="words of the prompt"></div>
      <div class="step-row" id="${RESULTS_ID.compare.stepRow}">
        <label for="${RESULTS_ID.compare.step}">Step</label>
        <input type="range" id="${RESULTS_ID.compare.step}" min="0" max="0" value="0" aria-describedby="${RESULTS_ID.compare.stepLabel}">
        <span id="${RESULTS_ID.compare.stepLabel}" class="muted"></span>
      </div>
    </div>
  </section>
  <section class="top">
    <div>
      <h2>Detector</h2>
      <table id="${RESULTS_ID.compare.detect}" class="deltas"></table>
    </div>
    <div id="${RESULTS_ID.compare.masksSection}">
      <h2>Object masks <span class="muted small">each object's map at 0.4 of its max</span></h2>
      <p class="muted small">base</p>
      <div id="${RESULTS_ID.compare.masksBefore}" class="mask-grid"></div>
      <p class="muted small">finetuned</p>
      <div id="${RESULTS_ID.compare.masksAfter}" class="mask-grid"></div>
    </div>
    <div>
      <h2>Per-pixel overlap</h2>
      <div class="pair small">
        <figure class="overlap"><canvas id="${RESULTS_ID.compare.overlapBefore}" role="img" aria-label="overlap before"></canvas><figcaption class="muted">base</figcaption></figure>
        <figure class="overlap"><canvas id="${RESULTS_ID.compare.overlapAfter}" role="img" aria-label="overlap after"></canvas><figcaption class="muted">finetuned</figcaption></figure>
      </div>
    </div>
    <div>
      <section id="${RESULTS_ID.compare.curveSection}">
        <h2>Training loss</h2>
        <canvas id="${RESULTS_ID.compare.curve}" class="curve" role="img" aria-label="loss per training step"></canvas>
        <p id="${RESULTS_ID.compare.curveLabel}" class="muted"></p>
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
    WEBVIEW_KIND.sidebar,
    'Prompt Lens Runs',
    `<section aria-labelledby="${SIDEBAR_ID.modelHeading}">
  <h3 id="${SIDEBAR_ID.modelHeading}">Model</h3>
  <p id="${SIDEBAR_ID.model}" class="muted">No run yet.</p>
</section>
<section aria-labelledby="${SIDEBAR_ID.fileHeading}">
  <h3 id="${SIDEBAR_ID.fileHeading}">Run settings</h3>
  <p id="${SIDEBAR_ID.file}" class="muted">Open a .prompt file.</p>
  <table id="${SIDEBAR_ID.settings}" class="settings"></table>
  <vscode-button id="${SIDEBAR_ID.generate}" appearance="primary" title="Generate the prompt under the cursor (F5)">▶ Generate</vscode-button>
</section>
<section aria-labelledby="${SIDEBAR_ID.queueHeading}">
  <h3 id="${SIDEBAR_ID.queueHeading}">Queue</h3>
  <ul id="${SIDEBAR_ID.queue}" class="list"></ul>
  <p id="${SIDEBAR_ID.queueEmpty}" class="muted">Nothing running.</p>
</section>
<section aria-labelledby="${SIDEBAR_ID.finetuneHeading}">
  <h3 id="${SIDEBAR_ID.finetuneHeading}">Finetune</h3>
  <div class="form">
    <label for="${SIDEBAR_ID.finetuneSteps}">Steps <span id="${SIDEBAR_ID.finetuneStepsSource}" class="muted"></span></label><input id="${SIDEBAR_ID.finetuneSteps}" class="input" type="number" min="1" max="100000" step="1">
    <label for="${SIDEBAR_ID.finetuneLr}">Learning rate <span id="${SIDEBAR_ID.finetuneLrSource}" class="muted"></span></label><input id="${SIDEBAR_ID.finetuneLr}" class="input" type="number" min="0" step="any">
  </div>
  <vscode-button id="${SIDEBAR_ID.finetune}" title="Separate-and-Enhance finetune on the active .prompt file">Start Finetune</vscode-button>
</section>
<section aria-labelledby="${SIDEBAR_ID.keySetsHeading}">
  <h3 id="${SIDEBAR_ID.keySetsHeading}">Key sets</h3>
  <ul id="${SIDEBAR_ID.keySets}" class="list"></ul>
  <p id="${SIDEBAR_ID.keySetsEmpty}" class="muted">None yet: run Finetune.</p>
</section>
<section aria-labelledby="${SIDEBAR_ID.historyHeading}">
  <h3 id="${SIDEBAR_ID.historyHeading}">History</h3>
  <ul id="${SIDEBAR_ID.history}" class="list history"></ul>
  <p id="${SIDEBAR_ID.historyEmpty}" class="muted">No runs in this runs folder yet.</p>
</section>`,
  );
}
