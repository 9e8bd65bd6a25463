/**
 * `prompt-lens` as a user runs it (bin/prompt-lens.js, built by npm run build): what a bad model and a Ctrl+C
 * print, and the exit codes the README promises.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { copyFixture } from './sdExport';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'prompt-lens.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` sees stdout as it grows (and may signal the child). */
function cli(args: string[], onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function promptFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The last stderr line (progress lines come before it) and that no stack trace was printed. */
function oneLineError(stderr: string): string {
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  return stderr.trimEnd().split('\n').at(-1) ?? '';
}

describe('prompt-lens errors and cancel', () => {
  let dir: string;
  before(() => {
    assert.ok(existsSync(path.join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: run npm run build first');
    dir = mkdtempSync(path.join(tmpdir(), 'pl-cli-'));
  });

  test('a model folder that does not exist: exit 2, one line naming the .prompt file and line of model:', async () => {
    const file = promptFile(dir, 'missing.prompt', '---\nmodel: /nonexistent/dir\n---\na red [circle]\n');
    const { code, stderr } = await cli(['run', file, '--out', path.join(dir, 'runs')]);
    assert.equal(code, 2);
    assert.equal(oneLineError(stderr), `prompt-lens: ${file}:2:8: model: Model folder not found: /nonexistent/dir`);
  });

  test('a model path that leaves the workspace for a folder that is no model: exit 2, the file and line', async () => {
    const file = promptFile(dir, 'escapes.prompt', '---\nmodel: ../../../../../../../../..\n---\na red [circle]\n');
    const { code, stderr } = await cli(['run', file, '--out', path.join(dir, 'runs')]);
    assert.equal(code, 2);
    assert.match(oneLineError(stderr), new RegExp(`^prompt-lens: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:8: model: / is not a diffusers ONNX model folder: model_index\\.json is missing`));
  });

  test('a truncated UNet: exit 2, one line naming the file and the broken graph, no stack trace', async () => {
    const model = copyFixture(path.join(ROOT, 'models', 'tiny-shapes'), 'pl-cli-truncated-');
    truncateSync(path.join(model, 'unet', 'model.onnx'), 2_000_000);
    const file = promptFile(dir, 'truncated.prompt', `---\nmodel: ${model}\n---\na red [circle]\n`);
    const { code, stderr } = await cli(['run', file, '--out', path.join(dir, 'runs')]);
    assert.equal(code, 2);
    const line = oneLineError(stderr);
    assert.ok(line.startsWith(`prompt-lens: ${file}:2:8: model: `), line);
    assert.match(line, /unet\/model\.onnx is not an ONNX model/);
  });

  test('Ctrl+C while the first batch of seeds is written: exit 130, that batch kept whole and said to be complete, the next one left nothing', async () => {
    const runs = path.join(dir, 'seed-runs');
    // Nine seeds: tiny-shapes samples 8 per UNet call, then the ninth alone.
    const file = promptFile(dir, 'seeds.prompt', '---\nseed: [1, 2, 3, 4, 5, 6, 7, 8, 9]\nsteps: 40\n---\na red [circle] and a blue [square]\n');
    let interrupted = false;
    const { code, stdout, stderr } = await cli(['run', file, '--out', runs], (soFar, child) => {
      // Seed 1's folder and report are printed once written: the batch's other records are still to come.
      if (!interrupted && soFar.split('\n').length > 2) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(code, 130, stderr);
    const printed = stdout.trim().split('\n');
    assert.equal(printed.length, 16, "the first batch's 8 folders and reports");
    assert.deepEqual(readdirSync(runs).sort(), printed.filter((_, i) => i % 2 === 0).map((folder) => path.basename(folder)).sort());
    assert.ok(printed.every((p) => existsSync(p)));
    assert.equal(oneLineError(stderr), 'Cancelled; the 8 run folders printed above are complete; the batch of seeds being sampled left no folder.');
  });
});
