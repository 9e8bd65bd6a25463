// A self-contained HTML report of one run: every picture inlined as a data URI so the file can be
// mailed, attached to CI artefacts or opened offline. Built from the run and the record just written
// (which names the pictures), in the run's folder before it is renamed into place.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { REPORT_FILE } from '../record/files';
import type { RunResult } from '../record/runResult';
import type { RunJson } from '../record/schema';
import { failureSection } from '../../shared/failureSection';

export async function writeHtmlReport(result: RunResult, record: RunJson, runFolder: string, pictures: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const inline = (rel: string): string => {
    const bytes = pictures.get(rel);
    if (!bytes) throw new Error(`the report's picture ${rel} was not written with the run`);
    return `data:image/png;base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
  };
  const { files, id: runId } = record;
  const cards: string[] = [];
  for (const [i, map] of files.maps.entries()) {
    const word = result.words[i];
    const activation = result.scores?.activations.find((a) => a.word === word.word);
    const tags = [word.isObject ? 'object' : '', word.isSpecial ? 'special token' : ''].filter(Boolean).join(', ');
    cards.push(`<figure class="map${word.isObject ? ' object' : ''}">
  <img src="${inline(map.overlay)}" alt="attention of ${esc(word.word)} over the image">
  <img src="${inline(map.heat)}" alt="attention of ${esc(word.word)}">
  <figcaption><b>${esc(word.word)}</b> <span class="muted">tokens ${word.tokenIndices.join(', ')}${tags ? ` · ${tags}` : ''}</span>${
    activation ? `<br>activation ${fmt(activation.value)}` : ''
  }</figcaption>
</figure>`);
  }
  const s = result.scores;
  const scores = s
    ? `<h2>Separate-and-Enhance loss terms</h2>
<table>
  <tr><th>overlap (L<sub>sep</sub>)</th><td>${fmt(s.overlap)}</td></tr>
  <tr><th>weakest object</th><td>${esc(s.weakest)}</td></tr>
  <tr><th>L<sub>en</sub> = 1 − min a<sub>i</sub></th><td>${fmt(s.enhanceLoss)}</td></tr>
  <tr><th>L = L<sub>sep</sub> + 0.5 L<sub>en</sub></th><td>${fmt(s.totalLoss)}</td></tr>
  ${s.activations.map((a) => `<tr><th>activation of ${esc(a.word)}</th><td>${fmt(a.value)}</td></tr>`).join('\n  ')}
  ${s.pairs
    .map((p) => `<tr><th>${esc(p.a)} × ${esc(p.b)}</th><td>IoU ${fmt(p.iou)} · IoA ${fmt(p.ioaA)} / ${fmt(p.ioaB)}</td></tr>`)
    .join('\n  ')}
</table>
<p class="muted">Scores computed on: ${esc(s.basis)}</p>
${files.overlap ? `<figure class="map"><img src="${inline(files.overlap)}" alt="per-pixel overlap"><figcaption>per-pixel overlap ∏M/ΣM</figcaption></figure>` : ''}`
    : '<p class="muted">No marked objects: mark object words like <code>[circle]</code> to get overlap and activation scores.</p>';
  const st = result.settings;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prompt Lens — ${esc(result.prompt)}${result.mapFilter ? ` — maps: ${esc(result.mapFilter)}` : ''}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} .muted{color:#777} code{background:#eee;padding:0 3px}
.top{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
img{image-rendering:pixelated} .hero{width:256px;height:256px;border:1px solid #ccc}
.maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-top:16px}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px;border-radius:4px;display:inline-block}
figure.object{border-color:#c60} figure img{width:80px;height:80px;margin-right:4px}
table{border-collapse:collapse} th{text-align:left;font-weight:normal;color:#555;padding:2px 12px 2px 0}
section.failure{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px 14px;margin:12px 0}
section.failure.flagged{border-color:#c0392b} section.failure h2{font-size:16px;margin:4px 0} tr.flag th,tr.flag td{color:#c0392b;font-weight:bold}
</style></head><body>
<h1>${highlight(result)}</h1>
${result.mapFilter ? `<p class="filtered"><b>Maps filtered: ${esc(result.mapFilter)}</b>${result.filteredFrom ? ` <span class="muted">(sampled again from run ${esc(result.filteredFrom)})</span>` : ''}; the scores keep their own layers and steps.</p>\n` : ''}<p class="muted">${esc(result.model.id)} (${esc(result.model.hash)}) · ${esc(result.provider.name)} · seed ${st.seed} · ${st.steps} DDIM steps · guidance ${st.guidance} · ${timeTaken(result.timings)} · run ${esc(runId)}</p>
${result.failure ? failureSection(result.failure, st.steps) : ''}
<div class="top">
<img class="hero" src="${inline(files.imageLarge)}" alt="generated image">
<div>${scores}</div>
</div>
<h2>Attention per word</h2>
<p class="muted">${esc(result.mapRecipe)}; each map coloured by its own maximum.</p>
<div class="maps">
${cards.join('\n')}
</div>
</body></html>
`;
  await fs.writeFile(path.join(runFolder, REPORT_FILE), html);
}

/** "310 ms", or "140 ms (its share of 8 sampled together)" for a run sampled in a batch of seeds. */
export function timeTaken(timings: RunResult['timings']): string {
  const ms = `${Math.round(timings.totalMs)} ms`;
  return timings.batchSize > 1 ? `${ms} (its share of ${timings.batchSize} sampled together)` : ms;
}

function highlight(result: RunResult): string {
  let out = '';
  let at = 0;
  for (const o of [...result.objects].sort((a, b) => a.start - b.start)) {
    out += esc(result.prompt.slice(at, o.start)) + `<u>${esc(result.prompt.slice(o.start, o.end))}</u>`;
    at = o.end;
  }
  return out + esc(result.prompt.slice(at));
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : String(v);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
