import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importCycles from './scripts/lint/importCycles.mjs';

// Import fences: which code may reach which. Relative imports are matched by where they lead; the
// patterns do not depend on how deep the importing file sits.
const VSCODE = { name: 'vscode', message: 'Only the extension host (src/ outside engine/, cli/ and shared/) may use the VS Code API.' };
/** The repository's top-level folders besides webview/: browser code reaches none but src/shared/. */
const OUTSIDE_WEBVIEW = 'src|test|bench|scripts|models|prompt_lens_py|bin|media|docs|examples|node_modules';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.vscode-test*/**', 'models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // No import cycles between files anywhere, and none between layers: the folders directly under src/,
    // src/engine/ (in the order src/engine/README.md lists them) and webview/.
    files: ['**/*.ts'],
    plugins: { 'prompt-lens': importCycles },
    rules: {
      'prompt-lens/no-import-cycles': ['error', {
        roots: ['src', 'webview', 'test', 'bench'],
        layerParents: ['src', 'src/engine', 'webview'],
      }],
    },
  },
  {
    // The engine is shared with the CLI and benchmarks: no VS Code there.
    files: ['src/engine/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE] }] },
  },
  {
    // Browser code: its own folders and src/shared/ only; what else it needs travels through the protocol.
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [VSCODE],
          patterns: [
            {
              regex: `^(\\.\\./)+(?!src/shared/)(${OUTSIDE_WEBVIEW})(/|$)`,
              message: 'webview/ may import only from webview/ and src/shared/ (move pure code to src/shared/).',
            },
            { regex: '^node:', message: 'webview/ is browser code.' },
          ],
        },
      ],
    },
  },
  {
    // Used by the host and the webviews alike: it imports only itself, never the engine, the host or the webviews.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [VSCODE],
          patterns: [
            { regex: '^\\.\\./(engine|cli)(/|$)', message: 'src/shared/ may not import the engine or the CLI: the engine imports src/shared/ instead (move the pure helper here).' },
            { regex: '^(\\.\\./)+webview(/|$)', message: 'src/shared/ may not import webview/: the webviews import src/shared/.' },
            { regex: '^\\.\\./(?!(engine|cli)/)(?!\\.\\./webview/)', message: 'src/shared/ imports only src/shared/: the extension host, test/ and bench/ use it, not the other way round.' },
            { regex: '^node:', message: 'src/shared/ runs in the webviews (a browser) too.' },
          ],
        },
      ],
    },
  },
);
