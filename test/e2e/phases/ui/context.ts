// What the ui phase's step groups share: the session, the prompt line they click, and the webview frames
// earlier steps found (a later step fails with "no … frame" when the one that finds it failed).
import type { Frame, Locator } from 'playwright-core';
import type { UiSession } from '../../harness/session';

export const PROMPT_FILE = 'shapes.prompt';
export const PROMPT_LINE = 'a red [circle] and a blue [square]';
export const GENERATE_TITLE = 'Prompt Lens: Generate';
/** A prompt the embedded model draws without its square at the file's seed and steps (test/fixtures/e2e). */
export const LOST_FILE = 'lost-object.prompt';
export const LOST_LINE = 'red [circle] and blue [square]';

export interface UiContext {
  ui: UiSession;
  /** The shapes.prompt line the phase generates. */
  promptLine: Locator;
  /** The results panel's frame, the sidebar's, the before/after view's and the lost-object run's. */
  results?: Frame;
  sidebar?: Frame;
  compare?: Frame;
  lost?: Frame;
}
