// Shared by the fault-injection tests: temporary folders, the CLI as a user runs it, and a crafted model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { scanAttention } from '../../src/engine/onnx/findAttention';
import { GraphIndex } from '../../src/engine/onnx/graph';
import { decodeModel, encodeModel, EXTERNAL } from '../../src/engine/onnx/proto';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const MODELS = path.join(ROOT, 'models');
export const SD_TINY = path.join(ROOT, 'test', 'fixtures', 'sd-tiny');
const CLI = path.join(ROOT, 'out', 'src', 'cli', 'main.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `pl-fault-${prefix}-`));
}

/** Runs the CLI in a child process: a crash (abort, signal) shows as a null status or a signal. */
export function runCli(args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: out.status, signal: out.signal, stdout: out.stdout, stderr: out.stderr };
}

/** What the user is promised for bad input: exit 2, one line on stderr, no stack trace. */
export function assertOneLineBadInput(out: ReturnType<typeof runCli>, pattern: RegExp): void {
  assert.equal(out.signal, null, `the CLI was killed by ${out.signal}: ${out.stderr}`);
  assert.equal(out.status, 2, out.stderr);
  const lines = out.stderr.trim().split('\n').filter((l) => !/^(Loading|Sampling|Seed|Finetuning)\b/.test(l));
  assert.equal(lines.length, 1, out.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
}

/**
 * A copy of sd-tiny whose cross-attention key weights live in `unet/weights.bin` (external data);
 * `craft` may change each key weight's external-data entries. Returns the model folder.
 */
export function externalKeyModel(craft: (entries: { key?: string; value?: string }[], index: number) => void = () => undefined): string {
  const dir = tempDir('model');
  cpSync(SD_TINY, dir, { recursive: true, filter: (src) => !src.includes('.prompt-lens-') });
  const unetPath = path.join(dir, 'unet', 'model.onnx');
  const model = decodeModel(readFileSync(unetPath));
  const index = new GraphIndex(model.graph!);
  const keyWeights = scanAttention(index, 'encoder_hidden_states').matches.map((m) => m.keyWeight);
  const chunks: Buffer[] = [];
  let offset = 0;
  keyWeights.forEach((name, i) => {
    const t = index.initializers.get(name)!;
    const raw = Buffer.from(t.rawData!);
    chunks.push(raw);
    t.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    craft(t.externalData, i);
    t.dataLocation = EXTERNAL;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  });
  writeFileSync(path.join(dir, 'unet', 'weights.bin'), Buffer.concat(chunks));
  writeFileSync(unetPath, encodeModel(model));
  return dir;
}
