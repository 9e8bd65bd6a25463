// Driving the workbench: its error notifications, the webviews' nested frames, what is drawn, screenshots.
import * as path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import { WEBVIEW_ERROR } from './selectors';
import type { UiSession } from './session';
import { sleep } from './util';

export async function errorNotification(page: Page): Promise<string | undefined> {
  const toast = page.locator('.notifications-toasts .notification-toast', { has: page.locator('.codicon-error') }).first();
  if ((await toast.count()) === 0 || !(await toast.isVisible())) return undefined;
  return (await toast.innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * Finds a frame (webviews nest iframe.webview > iframe#active-frame) whose document holds `selector`.
 * Gives up early when the workbench shows an error notification.
 */
export async function findFrameWith(page: Page, selector: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      try {
        if ((await frame.locator(selector).count()) > 0) return frame;
      } catch {
        // detached while looking
      }
    }
    const error = await errorNotification(page);
    if (error !== undefined) throw new Error(`the workbench shows an error instead: ${error}`);
    for (const frame of page.frames()) {
      const failed = frame === page.mainFrame() ? undefined : await frame.locator(WEBVIEW_ERROR).first().innerText({ timeout: 100 }).catch(() => undefined);
      if (failed) throw new Error(`the results view shows an error instead: ${failed.trim()}`);
    }
    if (Date.now() > deadline) throw new Error(`no frame holds ${selector} after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(250);
  }
}

export async function visibleBox(locator: Locator): Promise<{ width: number; height: number } | null> {
  if (!(await locator.isVisible())) return null;
  const box = await locator.boundingBox();
  return box && box.width > 0 && box.height > 0 ? box : null;
}

/** 'ok' when the element is a loaded image or a canvas that is not one flat colour. */
export async function drawnState(locator: Locator): Promise<string> {
  // No DOM types in this Node project: the element is described structurally.
  type Drawable = {
    tagName: string;
    complete?: boolean;
    naturalWidth?: number;
    width: number;
    height: number;
    getContext?(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  };
  return locator.evaluate((el: Drawable) => {
    if (el.tagName === 'IMG') return el.complete === true && (el.naturalWidth ?? 0) > 0 ? 'ok' : 'image not loaded';
    if (el.width === 0 || el.height === 0) return 'canvas has no size';
    const pixels = el.getContext?.('2d')?.getImageData(0, 0, el.width, el.height).data;
    if (!pixels) return 'ok';
    for (let i = 4; i < pixels.length; i++) if (pixels[i] !== pixels[i % 4]) return 'ok';
    return 'canvas is blank (one colour)';
  });
}

/** Screenshot of one element (a webview's frame, say) into `out`. */
export async function elementShot(locator: Locator, out: string, name: string): Promise<void> {
  const file = path.join(out, `${name}.png`);
  await locator.screenshot({ path: file });
  console.log(`    screenshot: ${path.relative(process.cwd(), file)}`);
}

/** The first webview's picture, when it is visible. */
export async function webviewShot(page: Page, out: string, name: string): Promise<void> {
  const webviewElement = page.locator('iframe.webview').first();
  if (!(await webviewElement.isVisible())) return;
  await elementShot(webviewElement, out, name);
}

/** The webview that holds `frame` (not whichever webview comes first: the run panel is one too). */
export async function frameShot(frame: Frame, out: string, name: string): Promise<void> {
  const file = path.join(out, `${name}.png`);
  await (await frame.frameElement()).screenshot({ path: file });
  console.log(`    screenshot: ${path.relative(process.cwd(), file)}`);
}

/**
 * The code lens `title` of `file`'s editor, waited for with that editor in front. When it does not show, the tab
 * is clicked again once (as a person would); a miss names the tabs and the lenses that were drawn, because the
 * failure screenshot of a CI machine is not kept.
 */
export async function codeLensOf(page: Page, file: string, title: string, timeoutMs = 30_000): Promise<Locator> {
  const tab = page.locator('.tabs-container .tab', { hasText: file }).first();
  const lens = page.locator('.codelens-decoration a', { hasText: new RegExp(`^${title}$`) }).filter({ visible: true }).first();
  const shows = async (): Promise<boolean> => {
    await tab.click();
    return lens.waitFor({ timeout: timeoutMs / 2 }).then(() => true, () => false);
  };
  if ((await shows()) || (await shows())) return lens;
  const tabs = (await page.locator('.tabs-container .tab').allInnerTexts()).map((t) => t.trim()).join(' | ');
  const lenses = (await page.locator('.codelens-decoration').allInnerTexts()).map((t) => t.trim()).join(' / ');
  const editors = await page.locator('.monaco-editor').filter({ visible: true }).count();
  throw new Error(`no visible "${title}" lens in ${file} after ${timeoutMs / 1000} s (tabs: ${tabs}; lenses drawn: ${lenses || 'none'}; visible editors: ${editors})`);
}

/** Opens a workspace file from the explorer by double-click. */
export async function openFromExplorer(ui: UiSession, file: string, line: string): Promise<void> {
  const { page } = ui;
  await page.goto(`${ui.server.base}/?folder=${encodeURIComponent(ui.workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: file });
  await row.waitFor({ timeout: 60_000 });
  await row.dblclick();
  await page.locator('.tabs-container .tab', { hasText: file }).waitFor();
  await page.locator('.monaco-editor .view-line', { hasText: line }).waitFor();
}
