// Phase "ui": a fresh code-server with the extension installed (linked into its extensions folder), no
// payload; drives the workbench like a person: opens shapes.prompt from the explorer, runs Generate,
// checks the results webview, finetunes, compares, cancels, switches themes, reloads, and reads a run
// that loses an object. Screenshots go to test-results/e2e/.
import * as path from 'node:path';
import { PHASE_TIMEOUT_MS, ROOT } from '../harness/config';
import { closeUi, openUi } from '../harness/session';
import type { Counts } from '../harness/steps';
import { cancelThemesReload } from './ui/cancelThemesReload';
import { LOST_FILE, PROMPT_LINE, type UiContext } from './ui/context';
import { finetuneAndCompare } from './ui/finetuneAndCompare';
import { lostObject } from './ui/lostObject';
import { openAndGenerate } from './ui/openAndGenerate';
import { runViewControls } from './ui/runViewControls';

export async function runUiPhase(tmp: string): Promise<Counts> {
  // A short finetune (the embedded model: ~0.1 s a step) and a known theme to start from.
  const ui = await openUi(tmp, 'ui', { 'promptLens.finetune.steps': 10, 'workbench.colorTheme': 'Default Dark Modern' }, [path.join(ROOT, 'test', 'fixtures', 'e2e', LOST_FILE)]);
  const ctx: UiContext = { ui, promptLine: ui.page.locator('.monaco-editor .view-line', { hasText: PROMPT_LINE }) };
  const run = async (): Promise<void> => {
    await openAndGenerate(ctx);
    await runViewControls(ctx);
    await finetuneAndCompare(ctx);
    await cancelThemesReload(ctx);
    await lostObject(ctx);
  };
  return closeUi(ui, run(), PHASE_TIMEOUT_MS);
}
