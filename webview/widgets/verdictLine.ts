// The verdict line: the run's (or the pair's) findings, and a seed list's summary above them.
import type { Verdict } from '../../src/shared/verdict';

/** Fills `box`; returns the lines as shown, one per verdict. */
export function showVerdict(box: HTMLElement, verdict: Verdict, seeds?: Verdict): string {
  box.replaceChildren();
  const tone = seeds && seeds.tone === 'fail' ? 'fail' : verdict.tone;
  box.className = `verdict-line ${tone}`;
  const lines: string[] = [];
  for (const [v, prefix] of [
    [seeds, 'Seeds: '],
    [verdict, seeds ? 'This seed: ' : ''],
  ] as const) {
    if (!v) continue;
    const p = document.createElement('p');
    const strong = document.createElement('strong');
    strong.textContent = `${prefix}${v.lines[0]}`;
    p.append(strong);
    if (v.lines.length > 1) p.append(document.createTextNode(` · ${v.lines.slice(1).join(' · ')}`));
    box.append(p);
    lines.push(`${prefix}${v.lines.join(' · ')}`);
  }
  return lines.join('\n');
}
