// A code-server with the extension installed as a user has it, a browser page on it, and the phase's steps.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { isInterestingError, launchBrowser } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { EXTENSION_PATH, FIXTURE, RESULTS, VERBOSE } from './config';
import { Steps, type Counts } from './steps';
import { log, secondsSince, withTimeout } from './util';

export function copyFixture(dest: string): string {
  fs.cpSync(FIXTURE, dest, { recursive: true });
  return dest;
}

/** A code-server with the extension installed as a user has it, and a browser page on it. */
export interface UiSession {
  name: string;
  phaseStart: number;
  workspace: string;
  out: string;
  server: CodeServer;
  browser: Browser;
  page: Page;
  steps: Steps;
}

export async function openUi(tmp: string, name: string, settings: Record<string, unknown>, extraFiles: string[] = []): Promise<UiSession> {
  const phaseStart = Date.now();
  const dir = path.join(tmp, name);
  const out = RESULTS;
  const workspace = copyFixture(path.join(dir, 'workspace'));
  for (const file of extraFiles) fs.copyFileSync(file, path.join(workspace, path.basename(file)));
  // Installed the way a user has it: the extension folder linked into the extensions folder.
  const extensionsDir = path.join(dir, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION_PATH, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  fs.symlinkSync(EXTENSION_PATH, path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`), 'dir');

  const server = await startCodeServer({ name, dir, workspace, extensionsDir, env: { PROMPT_LENS_E2E_OUT: path.join(out, name) }, settings });
  log(`${name}: code-server on ${server.base}, extension linked from ${EXTENSION_PATH} (${secondsSince(phaseStart)})`);
  const browser = await launchBrowser(dir);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('console', (message) => {
    if (VERBOSE || isInterestingError(message)) console.log(`[browser ${message.type()}] ${message.text()}`);
  });
  page.setDefaultTimeout(30_000);
  return { name, phaseStart, workspace, out, server, browser, page, steps: new Steps(page, out) };
}

/** Waits for a phase's steps within `timeoutMs`, then closes the browser and the server. */
export async function closeUi(ui: UiSession, running: Promise<void>, timeoutMs: number): Promise<Counts> {
  const { steps, browser, server } = ui;
  try {
    await withTimeout(running, timeoutMs, `the ${ui.name} phase`);
  } catch (error) {
    // Timed out: fail the step in flight (closing the browser ends it) and skip the rest.
    steps.abortReason = error instanceof Error ? error.message : String(error);
    await steps.shot('failure-timeout').catch(() => undefined);
    await browser.close();
    await running.catch(() => undefined);
    if (steps.counts.failed === 0) steps.counts.failed++;
  }
  await browser.close();
  await server.stop();
  if (steps.counts.failed > 0) log(`code-server log: ${path.join(RESULTS, path.basename(server.logFile))}`);
  log(`${ui.name} phase: ${secondsSince(ui.phaseStart)}`);
  return steps.counts;
}
