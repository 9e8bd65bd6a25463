// The one-run view's controls: the step slider, the analysis (masks, overlap matrix), a head filter and the
// scale; then a front-matter diagnostic as the user types.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { byId, CLASS, DATA } from '../../../../src/shared/webviewDom';
import { RUN } from '../../harness/selectors';
import { sleep } from '../../harness/util';
import { drawnState, webviewShot } from '../../harness/workbench';
import type { UiContext } from './context';

export async function runViewControls(ctx: UiContext): Promise<void> {
  const { page, steps, workspace, out } = ctx.ui;
  await steps.step('the step slider moves the overlay to one sampling step (keyboard)', async () => {
    const frame = ctx.results;
    if (!frame) throw new Error('no webview frame');
    const slider = frame.locator(byId(RUN.step));
    await slider.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    const label = (await frame.locator(byId(RUN.stepLabel)).innerText()).trim();
    if (!/^step 2 of 8$/.test(label)) throw new Error(`step label is "${label}", want "step 2 of 8"`);
    const legend = (await frame.locator(byId(RUN.legendWord)).innerText()).trim();
    if (!/step 2 of 8/.test(legend)) throw new Error(`the overlay legend does not follow the slider: "${legend}"`);
    const drawn = await drawnState(frame.locator(byId(RUN.overlay)));
    if (drawn !== 'ok') throw new Error(`overlay at step 2: ${drawn}`);
    await webviewShot(page, out, '06-results-step');
  });

  await steps.step('attention analysis: object masks and the overlap matrix; a head filter re-makes the maps (keyboard)', async () => {
    const frame = ctx.results;
    if (!frame) throw new Error('no webview frame');
    const masks = frame.locator(`${byId(RUN.masks)} figure[${DATA.mask}]`);
    const labels = await masks.evaluateAll((figures, attribute) => figures.map((f) => f.getAttribute(attribute) ?? ''), DATA.mask);
    if (labels.join(',') !== 'circle,square,all objects') throw new Error(`mask figures: ${labels.join(', ')}`);
    for (const canvas of await frame.locator(`${byId(RUN.masks)} canvas`).all()) {
      const drawn = await drawnState(canvas);
      if (drawn !== 'ok') throw new Error(`a mask picture: ${drawn}`);
    }
    const headers = await frame.locator(`${byId(RUN.matrix)} th[scope="col"]`).allInnerTexts();
    const cells = await frame.locator(`${byId(RUN.matrix)} td:not(.${CLASS.corner})`).allInnerTexts();
    if (headers.join(',') !== 'circle,square' || cells.length !== 4) throw new Error(`matrix headers ${headers.join(', ')}, ${cells.length} cells`);
    console.log(`    matrix: ${cells.join(' | ')}`);
    await frame.locator(byId(RUN.analysis)).scrollIntoViewIfNeeded();
    await sleep(300);
    await webviewShot(page, out, '06b-analysis');
    // The head dropdown from the keyboard: focus, then ArrowDown picks head 0. A view of the same run: no new folder.
    const runsDir = path.join(workspace, 'runs');
    const runFolders = (): string[] => fs.readdirSync(runsDir).filter((n) => !n.startsWith('.'));
    const foldersBefore = runFolders().length;
    const recipeBefore = (await frame.locator(byId(RUN.recipe)).innerText()).trim();
    await frame.locator(byId(RUN.headFilter)).focus();
    await page.keyboard.press('ArrowDown');
    await frame.locator(byId(RUN.recipe), { hasText: 'heads 0' }).waitFor({ timeout: 60_000 });
    const value = await frame.locator(byId(RUN.headFilter)).inputValue();
    if (value !== '0') throw new Error(`the head filter shows "${value}" after the re-run`);
    if (runFolders().length !== foldersBefore) throw new Error(`the filter wrote a run folder (${foldersBefore} → ${runFolders().length})`);
    console.log(`    maps: "${recipeBefore}" → "${(await frame.locator(byId(RUN.recipe)).innerText()).trim()}"`);
    // Scale (display only): every word map on the largest one's scale; no re-run.
    const ownMax = Number(await frame.locator(byId(RUN.legend)).getAttribute(DATA.rawMax));
    await frame.locator(byId(RUN.scale)).selectOption('shared');
    const sharedMax = Number(await frame.locator(byId(RUN.legend)).getAttribute(DATA.rawMax));
    if (!(sharedMax >= ownMax)) throw new Error(`shared scale max ${sharedMax} is below the word's own max ${ownMax}`);
    console.log(`    overlay scale: own max ${ownMax} → shared max ${sharedMax}`);
    await frame.locator(byId(RUN.filters)).scrollIntoViewIfNeeded();
    await sleep(300);
    await webviewShot(page, out, '06c-filtered-maps');
    await frame.locator(byId(RUN.scale)).selectOption('map');
  });

  await steps.step('typing "size: 64x64" into the front matter is underlined at once (tiny-shapes makes one size only)', async () => {
    await page.locator('.monaco-editor .view-line', { hasText: 'seed: 1' }).first().click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('size: 64x64');
    await page.keyboard.press('Escape');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 20_000 });
    await steps.shot('06d-size-diagnostic');
    // Take the line out again: the rest of the phase runs the file as it was.
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await page.keyboard.press('Delete');
    await page.keyboard.press('Backspace');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached', timeout: 20_000 });
  });
}
