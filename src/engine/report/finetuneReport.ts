// The finetune's self-contained HTML report: the loss curve, before/after scores and detector
// verdicts per prompt and seed, and the images with each object's attention, side by side. Built
// from the finetune in memory, whose comparisons name their runs' pictures.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Comparison, FinetuneRunResult } from '../finetune/finetuneResult';
import { describeFinetuneSettings } from '../finetune/finetuneSettings';
import type { FinetuneStep } from '../finetune/trainer';
import { keySetName } from '../../shared/keySetName';
import { objectLabels } from '../promptFile/marks';
import { REPORT_FILE } from '../record/files';
import type { RunFiles } from '../record/schema';
import type { RunResult } from '../record/runResult';

export async function writeFinetuneReport(result: FinetuneRunResult, dir: string, id: string): Promise<void> {
  const inline = async (rel: string): Promise<string> => `data:image/png;base64,${(await fs.readFile(path.join(dir, rel))).toString('base64')}`;
  const sections: string[] = [];
  for (const c of result.comparisons) sections.push(await comparisonSection(c, inline));
  const o = result.options;
  // Its key set's readable name, as the run panel and the before/after view give it; the folder name in the tooltip.
  const name = keySetName(result.trainedPrompts, id);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prompt Lens finetune — ${esc(name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px} .muted{color:#777}
table{border-collapse:collapse;background:#fff} th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
.better{color:#080} .worse{color:#b00} img{image-rendering:pixelated;width:96px;height:96px;margin-right:3px}
.pair{display:flex;gap:24px;flex-wrap:wrap;background:#fff;border:1px solid #ddd;padding:8px;margin:8px 0} .pair>div:first-child{flex-basis:100%}
</style></head><body>
<h1 title="${esc(id)}">Separate-and-Enhance finetune on ${esc(name)}</h1>
<p class="muted">run ${esc(id)} · ${result.curve.length} steps trained · ${esc(describeFinetuneSettings({ values: o, sources: result.optionSources }))} · batch ${o.batch} · L = ${o.separateWeight}·L<sub>sep</sub> + ${o.enhanceWeight}·L<sub>en</sub>${o.normWeight ? ` + ${o.normWeight}·L<sub>norm</sub>` : ''} · gradient through the whole UNet · x0 = ${o.x0Scale}·N(0, I) · ${Math.round(result.trainMs)} ms${result.stopped ? ` · <b>stopped early: ${esc(result.stopped)}</b>` : ''}</p>
<p>Trained on: ${result.trainedPrompts.map(esc).join(' · ')}<br><span class="muted">Trained layers (key projections): ${result.trainedLayers.map(esc).join(', ')}</span></p>
<h2>Loss</h2>
${lossCurveSvg(result.curve)}
<h2>Before → after</h2>
${summaryTable(result.comparisons)}
${sections.join('\n')}
</body></html>
`;
  await fs.writeFile(path.join(dir, REPORT_FILE), html);
}

function summaryTable(comparisons: Comparison[]): string {
  const rows = comparisons.map((c) => {
    const weakest = (r: RunResult): number | undefined => (r.scores ? Math.min(...r.scores.activations.map((a) => a.value)) : undefined);
    return `<tr><td>${c.group}</td><td>${esc(c.prompt)}</td><td>${c.seed}</td>
<td>${delta(c.before.scores?.overlap, c.after.scores?.overlap, false)}</td>
<td>${delta(weakest(c.before), weakest(c.after), true)}</td>
<td>${verdict(c.before)} → ${verdict(c.after)}</td></tr>`;
  });
  return `<table><tr><th>group</th><th>prompt</th><th>seed</th><th>overlap L<sub>sep</sub> (lower is better)</th><th>weakest activation (higher is better)</th><th>detector</th></tr>
${rows.join('\n')}</table>`;
}

async function comparisonSection(c: Comparison, inline: (rel: string) => Promise<string>): Promise<string> {
  const side = async (label: string, folder: string, files: RunFiles, run: RunResult): Promise<string> => {
    const labels = objectLabels(run.objects);
    const objects = files.maps.filter((m) => labels.includes(m.word));
    const images = [await inline(path.join(folder, files.imageLarge)), ...(await Promise.all(objects.map((m) => inline(path.join(folder, m.overlay)))))];
    return `<div><b>${label}</b> <span class="muted">${verdict(run)}</span><br>${images
      .map((src, i) => `<img src="${src}" alt="${i === 0 ? 'image' : esc(objects[i - 1].word)}" title="${i === 0 ? 'image' : esc(objects[i - 1].word)}">`)
      .join('')}</div>`;
  };
  return `<div class="pair"><div><b>${esc(c.prompt)}</b> <span class="muted">seed ${c.seed} · ${c.group}</span></div>
${await side('before', c.beforeFolder, c.beforeFiles, c.before)}
${await side('after', c.afterFolder, c.afterFiles, c.after)}</div>`;
}

function verdict(run: RunResult): string {
  if (!run.detection) return '—';
  return run.detection.success ? '✓ all found' : run.detection.objects.filter((o) => o.status !== 'found').map((o) => `${o.object}: ${o.status}`).join(', ');
}

function delta(before: number | undefined, after: number | undefined, higherIsBetter: boolean): string {
  if (before === undefined || after === undefined) return '—';
  const better = higherIsBetter ? after > before : after < before;
  return `${before.toFixed(3)} → <span class="${after === before ? '' : better ? 'better' : 'worse'}">${after.toFixed(3)}</span>`;
}

/** The training loss and its two parts as an inline SVG polyline chart. */
export function lossCurveSvg(curve: FinetuneStep[]): string {
  if (curve.length === 0) return '<p class="muted">No training step completed.</p>';
  const width = 480;
  const height = 160;
  const max = Math.max(...curve.map((s) => Math.max(s.loss, s.separate, s.enhance)), 1e-9);
  const x = (i: number): number => (curve.length === 1 ? 0 : (i / (curve.length - 1)) * width);
  const y = (v: number): number => height - (v / max) * height;
  const line = (pick: (s: FinetuneStep) => number, colour: string): string =>
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${curve.map((s, i) => `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ')}"/>`;
  return `<svg width="${width + 60}" height="${height + 30}" viewBox="-40 -10 ${width + 60} ${height + 30}" role="img" aria-label="loss curve">
<rect x="0" y="0" width="${width}" height="${height}" fill="#fff" stroke="#ccc"/>
${line((s) => s.loss, '#222')}${line((s) => s.separate, '#c60')}${line((s) => s.enhance, '#06c')}
<text x="-36" y="8" font-size="10">${max.toFixed(3)}</text><text x="-36" y="${height}" font-size="10">0</text>
<text x="0" y="${height + 14}" font-size="10">step 1</text><text x="${width - 40}" y="${height + 14}" font-size="10">step ${curve.length}</text>
<text x="${width - 200}" y="12" font-size="10" fill="#222">L</text><text x="${width - 180}" y="12" font-size="10" fill="#c60">L_sep</text><text x="${width - 140}" y="12" font-size="10" fill="#06c">L_en</text>
</svg>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
