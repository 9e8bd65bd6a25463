// Output of the integration suite. Under test/e2e/runInCodeServer the extension host's console reaches
// the runner only through the browser's console, mixed with the workbench's own messages: lines
// carry a marker there so the runner can pick them out. Elsewhere (test-electron) they are plain.
import { format } from 'node:util';

export const E2E_OUT_ENV = 'PROMPT_LENS_E2E_OUT';
export const SUITE_LOG_MARK = '@@prompt-lens-suite@@';

export function suiteLog(...args: unknown[]): void {
  const text = format(...args);
  console.log(process.env[E2E_OUT_ENV] ? `${SUITE_LOG_MARK}${text}` : text);
}
