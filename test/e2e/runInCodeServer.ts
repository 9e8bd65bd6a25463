// End-to-end run of the extension in a real VS Code (code-server, VS Code 1.100.3) driven by headless
// Chromium, for machines without a desktop VS Code (how and why: docs/e2e.md).
//
//   Phase "suite" (phases/suite.ts): the mocha suite in code-server's real extension host.
//   Phase "ui" (phases/ui.ts, its step groups in phases/ui/): the workbench driven like a person;
//     screenshots go to test-results/e2e/.
//   Phase "neglect" (phases/neglect.ts): the README's example, examples/neglect.prompt, generated and
//     finetuned through the UI up to its before/after view (24 comparisons); takes the README's pictures of it.
//   harness/: installing and starting code-server, the browser, workbench helpers, steps, cleanup.
//
// Exit code: 0 only when every phase passed. Last line: "e2e: N passed, N failed[, N skipped]".
//
// Env (all optional):
//   PROMPT_LENS_E2E_PHASES     "suite,ui,neglect" (default), or any of them, comma-separated
//   PROMPT_LENS_E2E_EXTENSION  extension folder to load (default: the repo root)
//   PROMPT_LENS_E2E_ENV        where code-server is installed (default: <repo>/.vscode-test-env)
//   PROMPT_LENS_E2E_TIMEOUT_S  per-phase timeout in seconds (default 240)
//   PROMPT_LENS_E2E_VERBOSE=1  forward every browser console message and the server log
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCleanups } from './harness/cleanup';
import { ensureCodeServer } from './harness/codeServer';
import { CHROMIUM, EXTENSION_PATH, PHASES, RESULTS, VERBOSE } from './harness/config';
import type { Counts } from './harness/steps';
import { log, secondsSince } from './harness/util';
import { runNeglectPhase } from './phases/neglect';
import { runSuitePhase } from './phases/suite';
import { runUiPhase } from './phases/ui';

async function main(): Promise<number> {
  const start = Date.now();
  const extensionMain = path.join(EXTENSION_PATH, 'dist', 'extension.js');
  if (!fs.existsSync(extensionMain)) log(`warning: ${extensionMain} missing (npm run build?)`);
  // Installs the Debian prerequisites (Chromium among them) on a fresh machine before anything looks for them.
  ensureCodeServer();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing after scripts/e2e/install-prerequisites.sh: apt-get install chromium`);

  fs.rmSync(RESULTS, { recursive: true, force: true });
  fs.mkdirSync(RESULTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-lens-e2e-'));

  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  const add = (label: string, counts: Counts): void => {
    console.log(`[e2e] ${label} phase: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  };
  for (const phase of PHASES) {
    console.log(`\n[e2e] ===== phase ${phase} =====`);
    try {
      if (phase === 'suite') add('suite', await runSuitePhase(tmp));
      else if (phase === 'ui') add('ui', await runUiPhase(tmp));
      else if (phase === 'neglect') add('neglect', await runNeglectPhase(tmp));
      else throw new Error(`unknown phase ${phase}`);
    } catch (error) {
      console.error(`[e2e] phase ${phase} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      add(phase, { passed: 0, failed: 1, skipped: 0 });
    }
    await runCleanups();
  }
  if (VERBOSE) log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  log(`results: ${RESULTS}`);
  log(`total: ${secondsSince(start)}`);
  console.log(`e2e: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  return total.failed > 0 || total.passed === 0 ? 1 : 0;
}

main()
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(`[e2e] ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    await runCleanups();
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  });
