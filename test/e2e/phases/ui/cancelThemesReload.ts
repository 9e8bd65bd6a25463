// Cancelling a long run from the status bar, the webviews following the colour theme, the before/after view
// restored after a window reload.
import { byId, RESULTS_ID } from '../../../../src/shared/webviewDom';
import { WEBVIEW_STATUS, COMPARE_SCORES, settingInput, COMPARE } from '../../harness/selectors';
import { sleep } from '../../harness/util';
import { drawnState, findFrameWith } from '../../harness/workbench';
import type { UiContext } from './context';

export async function cancelThemesReload(ctx: UiContext): Promise<void> {
  const { page, steps } = ctx.ui;
  const { promptLine } = ctx;
  await steps.step('F5 on a 400-step prompt, then a click on the spinning status bar item cancels it', async () => {
    const { sidebar } = ctx;
    if (!sidebar) throw new Error('no sidebar frame');
    const stepsInput = sidebar.locator(settingInput('steps'));
    await stepsInput.fill('400');
    await stepsInput.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: 'steps: 400' }).waitFor({ timeout: 10_000 });
    await promptLine.click();
    const pressed = Date.now();
    await page.keyboard.press('F5');
    const item = page.locator('.statusbar-item', { hasText: /Prompt Lens: step \d+\/400/ }).first();
    await item.waitFor({ timeout: 30_000 });
    console.log(`    status bar ${Date.now() - pressed} ms after F5: ${(await item.innerText()).trim()}`);
    await steps.shot('10-running-status-bar');
    const clicked = Date.now();
    // force: the item's text changes every few steps; a person clicks it anyway.
    await item.click({ force: true });
    await page.locator('.statusbar-item', { hasText: 'Prompt Lens:' }).first().waitFor({ state: 'detached', timeout: 20_000 });
    console.log(`    the item went away ${Date.now() - clicked} ms after the click`);
    const results = await findFrameWith(page, WEBVIEW_STATUS, 10_000);
    const text = (await results.locator(byId(RESULTS_ID.statusText)).innerText()).trim();
    if (text !== 'Run cancelled.') throw new Error(`the results panel says "${text}" after the cancel`);
  });

  for (const [theme, css, name] of [
    ['Light Modern', 'vs', '11-theme-light'],
    ['Dark High Contrast', 'hc-black', '12-theme-high-contrast'],
    ['Dark Modern', 'vs-dark', '13-theme-dark'],
  ] as const) {
    await steps.step(`theme "${theme}" from the palette: workbench and webviews follow`, async () => {
      await promptLine.click();
      await page.keyboard.press('Control+Shift+P');
      const input = page.locator('.quick-input-widget input');
      await input.fill('>Preferences: Color Theme');
      // Click the exact command: Enter would take whatever ranks first (recently used commands do).
      await page.locator('.quick-input-list .monaco-list-row[aria-label^="Preferences: Color Theme"]').first().click();
      await page.locator('.quick-input-list .monaco-list-row[aria-label^="Dark Modern"]').first().waitFor();
      await input.fill(theme);
      await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${theme}"]`).first().click();
      await page.waitForFunction(`document.querySelector('.monaco-workbench')?.classList.contains('${css}')`, undefined, { timeout: 20_000 });
      await sleep(800); // webviews get the new CSS variables just after the workbench
      await steps.shot(name);
    });
  }

  await steps.step('reloading the window restores the before/after view (webview serializer)', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const restored = await findFrameWith(page, COMPARE_SCORES, 60_000);
    const drawn = await drawnState(restored.locator(byId(COMPARE.after)));
    if (drawn !== 'ok') throw new Error(`restored finetuned image: ${drawn}`);
    const reveal = await restored.locator(byId(COMPARE.revealSlider)).inputValue();
    if (reveal !== '100') throw new Error(`the split position was not kept (slider at ${reveal}, was 100)`);
    await sleep(300);
    await steps.shot('14-after-reload');
  });
}
