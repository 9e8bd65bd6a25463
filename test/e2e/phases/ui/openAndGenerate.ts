// Opening the prompt file from the explorer, Generate from the palette, the results webview's image and
// word maps, the editor's image hover.
import { byId, DATA } from '../../../../src/shared/webviewDom';
import { WEBVIEW_IMAGE, WEBVIEW_TOKEN_MAP, RUN } from '../../harness/selectors';
import { sleep } from '../../harness/util';
import { drawnState, elementShot, findFrameWith, visibleBox } from '../../harness/workbench';
import { GENERATE_TITLE, PROMPT_FILE, PROMPT_LINE, type UiContext } from './context';

export async function openAndGenerate(ctx: UiContext): Promise<void> {
  const { page, steps, server, workspace, out } = ctx.ui;
  const { promptLine } = ctx;
  const explorerRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: PROMPT_FILE });
  await steps.step('workbench opens the workspace without a payload', async () => {
    await page.goto(`${server.base}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await explorerRow.waitFor({ timeout: 60_000 });
    await steps.shot('01-workbench');
  });

  await steps.step(`double-click ${PROMPT_FILE} in the explorer opens it as Prompt Lens`, async () => {
    await explorerRow.dblclick();
    await page.locator('.tabs-container .tab', { hasText: PROMPT_FILE }).waitFor();
    await promptLine.waitFor();
    // The status bar names the contributed language ("Prompt Lens" alias), not plain text.
    const mode = page.locator('[id="status.editor.mode"]');
    await mode.waitFor();
    await page
      .waitForFunction(`/Prompt Lens/.test(document.querySelector('[id="status.editor.mode"]')?.textContent ?? '')`, undefined, { timeout: 30_000 }).catch(async () => {
      throw new Error(`status bar language is "${(await mode.textContent())?.trim()}", want "Prompt Lens"`);
    });
    await steps.shot('02-editor');
  });

  await steps.step(`cursor on "${PROMPT_LINE}", then ${GENERATE_TITLE} from the palette (Ctrl+Shift+P)`, async () => {
    await promptLine.click();
    await page.keyboard.press('Control+Shift+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${GENERATE_TITLE}`);
    const item = page.locator('.quick-input-list .monaco-list-row', { hasText: GENERATE_TITLE });
    await item.first().waitFor();
    await steps.shot('03-palette');
    await page.keyboard.press('Enter');
  });

  await steps.step('the results webview shows the generated image', async () => {
    const frame = (ctx.results = await findFrameWith(page, WEBVIEW_IMAGE, 150_000));
    const image = frame.locator(WEBVIEW_IMAGE).first();
    await image.waitFor({ state: 'visible', timeout: 30_000 });
    const drawn = await drawnState(image);
    if (drawn !== 'ok') throw new Error(`the image is there but not drawn: ${drawn}`);
    if (!(await visibleBox(image))) throw new Error('the image has no visible size');
    const verdict = (await frame.locator(byId(RUN.verdict)).innerText()).replace(/\s+/g, ' ').trim();
    if (!verdict) throw new Error('no verdict line over the result');
    console.log(`    verdict: ${verdict}`);
  });

  await steps.step('the results webview shows at least one token map', async () => {
    const frame = ctx.results;
    if (!frame) throw new Error('no webview frame');
    const maps = frame.locator(WEBVIEW_TOKEN_MAP);
    await maps.first().waitFor({ state: 'visible', timeout: 30_000 });
    const words: string[] = [];
    for (const map of await maps.all()) {
      if (await visibleBox(map)) words.push((await map.getAttribute(DATA.word)) ?? (await map.innerText()).trim());
    }
    if (words.length === 0) throw new Error('no token map is visible');
    console.log(`    token maps visible: ${words.join(', ')}`);
    await sleep(500); // let the last map paint before the picture
    await steps.shot('04-results');
    const webviewElement = page.locator('iframe.webview').first();
    if (await webviewElement.isVisible()) {
      await maps.first().scrollIntoViewIfNeeded();
      await sleep(300);
      await elementShot(webviewElement, out, '05-results-token-maps');
    }
  });

  await steps.step('hovering "circle" in the editor shows its heat map over the image (a real image hover)', async () => {
    // Image hovers have regressed in VS Code releases before: check the picture loads, not only the text.
    const word = promptLine.locator('span span', { hasText: /^circle$/ }).first();
    const hover = page.locator('.monaco-hover:not(.hidden) img');
    for (let attempt = 0; attempt < 3 && !(await hover.first().isVisible()); attempt++) {
      await page.mouse.move(0, 0);
      await word.hover();
      await hover.first().waitFor({ timeout: 10_000 }).catch(() => undefined);
    }
    await hover.first().waitFor({ timeout: 10_000 });
    const [natural, css] = await hover.first().evaluate((el: { naturalWidth: number; width: number }) => [el.naturalWidth, el.width]);
    if (!(natural > 0 && css > 0)) throw new Error(`hover image did not load (natural ${natural}, css ${css})`);
    const text = (await page.locator('.monaco-hover:not(.hidden)').first().innerText()).replace(/\s+/g, ' ');
    if (!/activation/.test(text)) throw new Error(`hover has no activation score: "${text.slice(0, 200)}"`);
    await sleep(500); // the hover fades in: a shot taken at once is half transparent
    await steps.shot('05b-hover');
    await page.keyboard.press('Escape');
    await page.mouse.move(0, 0);
  });
}
