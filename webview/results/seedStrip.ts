// The seed strip of a Generate of several seeds: a thumbnail per seed with the detector's ✓/✗; a click
// shows that seed's run.
import { detectionSummary } from '../../src/shared/deltas';
import type { RunView } from '../../src/shared/protocol';
import { CLASS, RESULTS_ID } from '../../src/shared/webviewDom';
import { pngUrl, revokeUrl } from '../widgets/blobUrls';
import { el } from '../widgets/dom';
import type { ResultsState } from './state';

export function renderSeedRuns(state: ResultsState, run: RunView): { seeds: number[]; labels: string[] } {
  const runs = run.seedRuns ?? [];
  const strip = el(RESULTS_ID.run.seedStrip);
  // The strip as drawn last goes, its thumbnails' URLs with it.
  for (const img of strip.querySelectorAll('img')) revokeUrl(img.src);
  strip.replaceChildren();
  strip.hidden = runs.length < 2;
  const labels: string[] = [];
  for (const r of runs) {
    const button = document.createElement('button');
    button.className = CLASS.seed;
    const mark = r.detection ? (r.detection.success ? '✓' : '✗') : '';
    const label = `seed ${r.seed}${mark ? ` ${mark}` : ''}`;
    button.setAttribute('aria-pressed', String(r.runFolder === run.runFolder));
    button.title = r.detection ? `seed ${r.seed}: ${detectionSummary(r.detection)}` : `seed ${r.seed}`;
    if (r.detection) button.classList.add(r.detection.success ? 'ok' : 'fail');
    if (r.imagePng) {
      const img = document.createElement('img');
      img.alt = '';
      img.src = pngUrl(r.imagePng);
      button.append(img);
    }
    const text = document.createElement('span');
    text.textContent = label;
    button.append(text);
    button.addEventListener('click', () => {
      if (r.runFolder !== state.single?.run.runFolder) state.post({ type: 'openSeedRun', runFolder: r.runFolder });
    });
    strip.append(button);
    labels.push(label);
  }
  return { seeds: runs.map((r) => r.seed), labels };
}
