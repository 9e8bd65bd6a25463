// Where things are and how the run is configured (env variables: see runInCodeServer.ts).
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const ENV_DIR = path.resolve(process.env.PROMPT_LENS_E2E_ENV ?? path.join(ROOT, '.vscode-test-env'));
export const CODE_SERVER_DIR = path.join(ENV_DIR, 'node_modules', 'code-server');
export const INSTALL_SCRIPT = path.join(ROOT, 'scripts', 'e2e', 'install-code-server.sh');
export const EXTENSION_PATH = path.resolve(process.env.PROMPT_LENS_E2E_EXTENSION ?? ROOT);
export const TESTS_PATH = path.join(ROOT, 'out', 'test', 'suite', 'index');
export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'workspace');
export const RESULTS = path.join(ROOT, 'test-results', 'e2e');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const PHASE_TIMEOUT_MS = Number(process.env.PROMPT_LENS_E2E_TIMEOUT_S ?? 240) * 1000;
export const PHASES = (process.env.PROMPT_LENS_E2E_PHASES ?? 'suite,ui,neglect').split(',').map((p) => p.trim());
export const VERBOSE = process.env.PROMPT_LENS_E2E_VERBOSE === '1';
