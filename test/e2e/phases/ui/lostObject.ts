// A prompt the model draws without its square: the failure score's verdict, the step plot and its marker,
// and the layout at 1100x800.
import { byId } from '../../../../src/shared/webviewDom';
import { WEBVIEW_IMAGE, WEBVIEW_TOKEN_MAP, RUN } from '../../harness/selectors';
import { sleep } from '../../harness/util';
import { findFrameWith, frameShot } from '../../harness/workbench';
import { LOST_FILE, LOST_LINE, type UiContext } from './context';

export async function lostObject(ctx: UiContext): Promise<void> {
  const { page, steps, out } = ctx.ui;
  const { promptLine } = ctx;
  await steps.step(`F5 on "${LOST_LINE}" (the detector misses the square): the failure score names it; the step plot has a line per object and marks the slider's step`, async () => {
    if (await promptLine.isVisible()) await promptLine.click(); // the keyboard to the workbench, not a webview
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill(LOST_FILE);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: LOST_FILE }).first().click();
    const line = page.locator('.monaco-editor .view-line', { hasText: LOST_LINE });
    await line.click();
    await page.keyboard.press('F5');
    const shown = `${byId(RUN.view)}:not([hidden]) ${byId(RUN.prompt)}:text-is("${LOST_LINE.replace(/[[\]]/g, '')}")`;
    const frame = (ctx.lost = await findFrameWith(page, shown, 150_000));
    const detection = (await frame.locator(byId(RUN.detection)).innerText()).replace(/\s+/g, ' ');
    if (!/square missing/.test(detection)) throw new Error(`the detector line does not report the square missing: "${detection}"`);
    // The failure score's sentence (src/engine/attention/failureScore.ts), not only the detector's.
    const verdict = (await frame.locator(byId(RUN.verdict)).innerText()).replace(/\s+/g, ' ').trim();
    if (!/\bsquare may be missing: activation 0\.\d+; objects that appear score ≥ 0\.\d+/.test(verdict)) throw new Error(`the verdict line does not give the square's failure score: "${verdict}"`);
    if (/\bcircle may be missing/.test(verdict)) throw new Error(`the verdict line calls the circle missing too: "${verdict}"`);
    console.log(`    verdict: ${verdict}`);
    const plot = frame.locator(`${byId(RUN.stepPlot)}:not([hidden]) svg`);
    const series = await plot.locator('polyline').evaluateAll((lines) => lines.map((l) => ({ word: l.textContent ?? '', points: (l.getAttribute('points') ?? '').trim().split(/\s+/) })));
    const words = series.map((s) => s.word).sort();
    if (words.join(',') !== 'circle,square') throw new Error(`the step plot's lines are ${words.join(', ') || 'none'}, want one for circle and one for square`);
    if (!series.every((s) => s.points.length === 8)) throw new Error(`the plot's lines have ${series.map((s) => s.points.length).join(', ')} points, want one per step (8)`);
    // The slider at step 3: the marker stands on each line's third point.
    await frame.locator(byId(RUN.step)).focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const marker = plot.locator('line.marker');
    const [markerTitle, markerX] = [await marker.locator('title').textContent(), Number(await marker.getAttribute('x1'))];
    const thirdX = Number(series[0].points[2].split(',')[0]);
    if (markerTitle !== 'step 3' || Math.abs(markerX - thirdX) > 0.11) throw new Error(`the marker says "${markerTitle}" at x ${markerX}; step 3 is at x ${thirdX}`);
    // All steps: no single step to mark.
    await page.keyboard.press('End');
    if ((await marker.count()) !== 0) throw new Error('the marker stays when the slider shows all steps');
    await plot.scrollIntoViewIfNeeded();
    await sleep(300);
    await steps.shot('15-lost-object-1600x1000');
    await frameShot(frame, out, '15-lost-object-view-1600x1000');
  });

  await steps.step('at 1100x800 the image, the verdict line and the first word map are above the fold of the results view', async () => {
    const frame = ctx.lost;
    if (!frame) throw new Error('no results frame');
    await page.setViewportSize({ width: 1100, height: 800 });
    try {
      await sleep(800); // the workbench lays out again, then the webview
      await frame.locator('body').evaluate((body: { ownerDocument: { defaultView: { scrollTo(x: number, y: number): void } | null } }) => body.ownerDocument.defaultView?.scrollTo(0, 0));
      // Measured inside the webview's own document: its viewport is what the user sees of the panel.
      type Measurable = { getBoundingClientRect(): { top: number; bottom: number; left: number; right: number }; ownerDocument: { defaultView: { innerHeight: number; innerWidth: number } | null } };
      const measure = (selector: string) =>
        frame.locator(selector).first().evaluate((node: Measurable) => {
          const r = node.getBoundingClientRect();
          const view = node.ownerDocument.defaultView;
          return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: view?.innerHeight ?? 0, width: view?.innerWidth ?? 0 };
        });
      const parts: [string, string][] = [
        ['the image', WEBVIEW_IMAGE],
        ['the verdict line', byId(RUN.verdict)],
        ['the first word map', WEBVIEW_TOKEN_MAP],
      ];
      const seen: string[] = [];
      const cut: string[] = [];
      for (const [what, selector] of parts) {
        const box = await measure(selector);
        seen.push(`${what} ${Math.round(box.top)}–${Math.round(box.bottom)}`);
        if (box.bottom > box.height || box.right > box.width + 1 || box.top < 0) cut.push(`${what} (${Math.round(box.top)}–${Math.round(box.bottom)} px, ${Math.round(box.left)}–${Math.round(box.right)} across)`);
      }
      const { height, width } = await measure('body');
      console.log(`    webview ${Math.round(width)}x${Math.round(height)}: ${seen.join(', ')}`);
      await steps.shot('16-lost-object-1100x800');
      await frameShot(frame, out, '16-lost-object-view-1100x800');
      if (cut.length > 0) throw new Error(`below the fold or cut off in the ${Math.round(width)}x${Math.round(height)} webview: ${cut.join('; ')}`);
    } finally {
      await page.setViewportSize({ width: 1600, height: 1000 });
    }
  });
}
