// Every name the extension shares with package.json's `contributes`: commands, views, the language, the
// settings section and context keys (vscode-free; test/unit/ui/ids.test.ts checks both sides agree).

export const LANGUAGE_ID = 'prompt-lens';

/** The settings section: every setting is `promptLens.<key>`. */
export const CONFIG_SECTION = 'promptLens';

export const COMMANDS = {
  generate: 'promptLens.generate',
  finetune: 'promptLens.finetune',
  compare: 'promptLens.compare',
  cancel: 'promptLens.cancel',
  showResults: 'promptLens.showResults',
  exportView: 'promptLens.exportView',
  showLog: 'promptLens.showLog',
  refreshRuns: 'promptLens.refreshRuns',
  openRun: 'promptLens.openRun',
  addModel: 'promptLens.addModel',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export const VIEWS = {
  /** The activity-bar container that holds the run panel. */
  container: 'promptLens',
  /** The sidebar run panel (a webview view). */
  runPanel: 'promptLens.runPanel',
  /** The results webview panel's view type (restored by its serializer). */
  results: 'promptLens.results',
} as const;

export const CONTEXT_KEYS = {
  /** True while a job runs: shows the cancel button and enables Shift+F5. */
  running: 'promptLens.running',
} as const;
