// The report's lead: which object may be missing (failure score per object, weakest first), whether the
// prompt is at risk, and each object's per-step value as an inline SVG plot with the model's threshold and
// the steps each score averages.
import type { FailureView } from './protocol';
import { stepWindow } from './stepWindow';

/** Distinguishable on white and in print; the first object gets the first colour. */
const SERIES_COLOURS = ['#c0392b', '#1f5fbf', '#2e8b3a', '#8e44ad', '#d68910', '#117a8b'];

const WIDTH = 420;
const HEIGHT = 180;
const PAD = { left: 40, right: 12, top: 10, bottom: 28 };

export function failureSection(failure: FailureView, steps: number): string {
  const { failure: f, risk } = failure;
  const weakest = f.objects[0];
  const flagged = weakest.appears === false;
  const rows = f.objects
    .map((o) => `<tr${o.appears === false ? ' class="flag"' : ''}><th>${esc(o.word)}</th><td>${o.score.toFixed(3)}</td><td>${o.appears === undefined ? '' : o.appears ? 'appears' : 'may be missing'}</td></tr>`)
    .join('\n  ');
  const unmeasured = failure.source === 'engine' ? '<p class="muted">This model has no measured recipes (its prompt_lens.json has no "scores"): these are the paper\'s 16x16-equivalent layers, not validated on it.</p>' : '';
  return `<section class="failure${flagged ? ' flagged' : ''}">
<h2>${flagged ? `${esc(f.objects.filter((o) => o.appears === false).map((o) => o.word).join(' and '))} may be missing` : 'Failure score'}</h2>
<p><b>${esc(f.verdict)}</b></p>
<p>${esc(risk.verdict)}</p>
<table>
  <tr><th>object</th><td>failure score</td><td></td></tr>
  ${rows}
</table>
${stepPlot(failure, steps)}
<p class="muted">Each object's value at every step; blue band: the steps the failure score averages; sand band: the early steps of the risk score${f.recipe.threshold === undefined ? '' : '; dashed: the threshold'}.</p>
<p class="muted">Failure score: ${esc(f.description)} (${esc(f.steps)}). Risk: ${esc(risk.description)} (${esc(risk.steps)}).</p>
${unmeasured}
</section>`;
}

/**
 * Each object's per-step value, the failure window and the early (risk) window shaded, the threshold dashed;
 * `marker` (a 0-based step, e.g. the results view's step slider) draws a vertical line there.
 */
export function stepPlot(failure: FailureView, steps: number, marker?: number): string {
  const { series } = failure.failure;
  const threshold = failure.failure.recipe.threshold;
  const top = Math.max(1e-6, threshold ?? 0, ...series.flatMap((s) => s.values)) * 1.1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (step: number): number => PAD.left + (steps === 1 ? plotW / 2 : (step * plotW) / (steps - 1));
  const y = (v: number): number => PAD.top + plotH - (v / top) * plotH;
  const band = (window: string, fill: string, label: string): string => {
    const r = stepWindow(window, steps);
    const [x0, x1] = [x(r.from) - (r.from === r.to ? 3 : 0), x(r.to) + (r.from === r.to ? 3 : 0)];
    return `<rect x="${x0.toFixed(1)}" y="${PAD.top}" width="${(x1 - x0).toFixed(1)}" height="${plotH}" fill="${fill}"><title>${esc(label)}</title></rect>`;
  };
  const lines = series.map((s, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    const points = s.values.map((v, step) => `${x(step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"><title>${esc(s.word)}</title></polyline>`;
  });
  const legend = series
    .map((s, i) => `<tspan fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}">■ ${esc(s.word)}</tspan>`)
    .join(' ');
  const ticks = [0, top / 2 / 1.1, top / 1.1].map((v) => `<text x="${PAD.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`);
  const thresholdLine =
    threshold === undefined
      ? ''
      : `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(threshold).toFixed(1)}" y2="${y(threshold).toFixed(1)}" stroke="#555" stroke-dasharray="4 3"><title>objects that appear score ≥ ${threshold}</title></line>`;
  return `<svg class="steps" role="img" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-size="10" font-family="system-ui,sans-serif">
<title>Each object's ${esc(failure.failure.recipe.statistic)} at every sampling step</title>
${band(failure.risk.recipe.steps, '#f3e6c8', `risk score: ${failure.risk.steps}`)}
${band(failure.failure.recipe.steps, '#dde8f5', `failure score: ${failure.failure.steps}`)}
<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#999"/>
<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#999"/>
${ticks.join('\n')}
${thresholdLine}
${marker === undefined ? '' : `<line class="marker" x1="${x(marker).toFixed(1)}" x2="${x(marker).toFixed(1)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#888" stroke-width="1.5"><title>step ${marker + 1}</title></line>`}
${lines.join('\n')}
<text x="${PAD.left}" y="${HEIGHT - 8}">step 1</text>
<text x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" text-anchor="end">step ${steps}</text>
<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${legend}</text>
</svg>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
