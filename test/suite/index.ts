// Mocha runner for the integration suite, in the shape @vscode/test-electron expects: the extension
// host loads this module (extensionTestsPath = out/test/suite/index) and awaits run().
// The same runner is driven in code-server's extension host by test/e2e/runInCodeServer.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { E2E_OUT_ENV, suiteLog } from './log';

interface TestRecord {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export function run(): Promise<void> {
  // Reporters print through Base.consoleLog: route it through suiteLog (marked lines under code-server).
  Mocha.reporters.Base.consoleLog = suiteLog;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  const testsRoot = __dirname;
  const files = fs
    .readdirSync(testsRoot)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(testsRoot, f));

  return new Promise<void>((resolve, reject) => {
    if (files.length === 0) {
      reject(new Error(`no *.test.js files in ${testsRoot}`));
      return;
    }
    const records: TestRecord[] = [];
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failures) => {
        const passed = records.filter((r) => r.state === 'passed').length;
        writeSummary({ passed, failed: failures, pending: records.filter((r) => r.state === 'pending').length, tests: records });
        // A plain closing line, whatever reporter is in use.
        suiteLog(`suite: ${passed} passed, ${failures} failed`);
        if (failures > 0) reject(new Error(`${failures} test${failures === 1 ? '' : 's'} failed.`));
        else if (passed === 0) reject(new Error('no test passed (none ran?)'));
        else resolve();
      });
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    runner.on('pass', (t) => records.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 }));
    runner.on('fail', (t, err: unknown) =>
      records.push({ title: t.fullTitle(), state: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
    runner.on('pending', (t) => records.push({ title: t.fullTitle(), state: 'pending' }));
  });
}

function writeSummary(summary: { passed: number; failed: number; pending: number; tests: TestRecord[] }): void {
  const out = process.env[E2E_OUT_ENV];
  if (!out) return;
  try {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'mocha.json'), JSON.stringify(summary, null, 2));
  } catch (error) {
    console.error(`could not write ${out}/mocha.json: ${String(error)}`);
  }
}
