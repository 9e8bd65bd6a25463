// Phase "suite": opens the fixture workspace with the extension-development payload in the URL, so
// code-server's extension host loads the extension and runs the mocha suite (out/test/suite/index); the
// workbench calls window.codeAutomationExit(code) when it is done.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInterestingError, launchBrowser, suiteLine } from '../harness/browser';
import { startCodeServer } from '../harness/codeServer';
import { EXTENSION_PATH, PHASE_TIMEOUT_MS, RESULTS, TESTS_PATH, VERBOSE } from '../harness/config';
import { copyFixture } from '../harness/session';
import type { Counts } from '../harness/steps';
import { log, secondsSince, tail, withTimeout } from '../harness/util';

export async function runSuitePhase(tmp: string): Promise<Counts> {
  const phaseStart = Date.now();
  const dir = path.join(tmp, 'suite');
  const out = path.join(RESULTS, 'suite');
  fs.mkdirSync(out, { recursive: true });
  if (!fs.existsSync(`${TESTS_PATH}.js`)) throw new Error(`${TESTS_PATH}.js missing: run npm run compile-tests`);
  const workspace = copyFixture(path.join(dir, 'workspace'));
  const server = await startCodeServer({
    name: 'suite',
    dir,
    workspace,
    extensionsDir: path.join(dir, 'extensions'),
    env: { PROMPT_LENS_E2E_OUT: out },
  });
  log(`suite: code-server on ${server.base} (${secondsSince(phaseStart)})`);

  const browser = await launchBrowser(dir);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  await page.exposeFunction('codeAutomationExit', (code: unknown) => {
    resolveExit(typeof code === 'number' ? code : 1);
  });
  let forwarding = true; // off once the verdict is in: the shutdown only adds noise
  page.on('console', (message) => {
    if (!forwarding) return;
    const line = suiteLine(message);
    if (line !== undefined) console.log(line);
    else if (VERBOSE || isInterestingError(message)) console.log(`[browser ${message.type()}] ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    if (VERBOSE) console.log(`[browser pageerror] ${error.message}`);
  });

  const authority = `127.0.0.1:${server.port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${EXTENSION_PATH}`],
    ['extensionTestsPath', `vscode-remote://${authority}${TESTS_PATH}`],
  ];
  const url = `${server.base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  log(`suite: extension ${EXTENSION_PATH}, tests ${TESTS_PATH}`);
  const runStart = Date.now();
  let code: number;
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    code = await withTimeout(exited, PHASE_TIMEOUT_MS, 'the extension tests to finish (codeAutomationExit never called)');
  } catch (error) {
    const shot = path.join(RESULTS, 'suite-failure.png');
    await page.screenshot({ path: shot }).catch(() => undefined);
    console.error(`[e2e] suite: ${error instanceof Error ? error.message : String(error)}\n[e2e] screenshot: ${shot}`);
    console.error(`[e2e] code-server log tail:\n${tail(server.logFile, 30)}`);
    code = -1;
  }
  forwarding = false;
  log(`suite: finished after ${secondsSince(runStart)}, exit code ${code}`);
  await page.close().catch(() => undefined);
  await browser.close();
  await server.stop();
  if (code !== 0) log(`code-server log: ${path.join(RESULTS, path.basename(server.logFile))}`);
  log(`suite phase: ${secondsSince(phaseStart)}`);

  const summaryFile = path.join(out, 'mocha.json');
  if (fs.existsSync(summaryFile)) {
    const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as Counts & { pending: number };
    const counts = { passed: summary.passed, failed: summary.failed, skipped: summary.pending };
    if (code !== 0 && counts.failed === 0) counts.failed = 1; // the run failed outside a test
    return counts;
  }
  return { passed: 0, failed: 1, skipped: 0 };
}
