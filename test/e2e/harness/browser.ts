// Headless Chromium and what of the workbench's console is worth showing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type ConsoleMessage } from 'playwright-core';
import { SUITE_LOG_MARK } from '../../suite/log';
import { cleanups } from './cleanup';
import { cleanEnv } from './codeServer';
import { CHROMIUM, CHROMIUM_ARGS } from './config';

export async function launchBrowser(dir: string): Promise<Browser> {
  const home = path.join(dir, 'browser-home');
  fs.mkdirSync(home, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...cleanEnv(), HOME: home },
    timeout: 60_000,
  });
  cleanups.push(() => browser.close());
  return browser;
}

/** Lines of the suite (test/suite/log.ts) inside a workbench console message, without the marker. */
export function suiteLine(message: ConsoleMessage): string | undefined {
  const text = message.text();
  const at = text.indexOf(SUITE_LOG_MARK);
  return at >= 0 ? text.slice(at + SUITE_LOG_MARK.length) : undefined;
}

/** Workbench console errors worth showing (an extension that fails to activate shows up here). */
export function isInterestingError(message: ConsoleMessage): boolean {
  if (message.type() !== 'error') return false;
  const text = message.text();
  return !KNOWN_NOISE.some((re) => re.test(text));
}

const KNOWN_NOISE = [
  /Failed to load resource: the server responded with a status of 404/,
  /Long running operations during shutdown/,
  /Error: \d+ tests? failed\./, // the suite's own verdict, already reported by mocha
];
