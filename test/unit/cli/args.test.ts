import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs, UsageError } from '../../../src/cli/args';

describe('prompt-lens arguments', () => {
  test('parses run with every option', () => {
    assert.deepEqual(parseArgs(['run', 'a.prompt', '--line', '3', '--out', 'o', '--seed', '0', '--steps', '8', '--provider', 'auto', '--quiet']), {
      command: 'run',
      file: 'a.prompt',
      line: 3,
      out: 'o',
      seed: 0,
      steps: 8,
      provider: 'auto',
      quiet: true,
    });
  });

  test('help and version', () => {
    assert.deepEqual(parseArgs([]), { command: 'help' });
    assert.deepEqual(parseArgs(['run', '--help']), { command: 'help' });
    assert.deepEqual(parseArgs(['--version']), { command: 'version' });
  });

  test('usage errors name the problem', () => {
    assert.throws(() => parseArgs(['draw']), (e: Error) => e instanceof UsageError && /Unknown command "draw"/.test(e.message));
    assert.throws(() => parseArgs(['run']), /Missing the .prompt file/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--steps', '0']), /--steps must be an integer >= 1; got "0"/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--seed', '-1']), /--seed must be an integer >= 0; got "-1"/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--seed']), /--seed needs a value/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--seed', '1.5']), /--seed must be an integer/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--provider', 'tpu']), /--provider must be one of/);
    assert.throws(() => parseArgs(['run', 'a.prompt', 'b.prompt']), /Only one file/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--frob']), /Unknown option --frob/);
  });
});
