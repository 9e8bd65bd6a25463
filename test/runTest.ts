// Runs the integration suite (test/suite) in a desktop VS Code downloaded by @vscode/test-electron.
// For machines that can download VS Code: `npm run compile-tests && npm run build && node out/test/runTest.js`.
// (Where that download is impossible, test/e2e/runInCodeServer.ts runs the same suite in code-server.)
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  // Compiled to out/test/runTest.js.
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..');
  const extensionTestsPath = path.resolve(__dirname, 'suite', 'index');
  const workspace = path.resolve(extensionDevelopmentPath, 'test', 'fixtures', 'workspace');
  await runTests({
    version: process.env.VSCODE_TEST_VERSION ?? 'stable',
    extensionDevelopmentPath,
    extensionTestsPath,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((error: unknown) => {
  console.error('Failed to run tests:', error);
  process.exit(1);
});
