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

  test('parses finetune options and map selections', () => {
    assert.deepEqual(parseArgs(['finetune', 'a.prompt', '--finetune-steps', '50', '--lr', '2e-4', '--heldout', 'h.prompt']), {
      command: 'finetune',
      file: 'a.prompt',
      quiet: false,
      finetuneSteps: 50,
      lr: 2e-4,
      heldOut: 'h.prompt',
    });
    const run = parseArgs(['run', 'a.prompt', '--layers', 'up_blocks.1,down_blocks.0', '--grids', '16', '--heads', '0,3', '--timesteps', '2-5']);
    assert.deepEqual(run, {
      command: 'run',
      file: 'a.prompt',
      quiet: false,
      layers: ['up_blocks.1', 'down_blocks.0'],
      grids: ['16'],
      heads: [0, 3],
      stepRange: { from: 1, to: 4 },
    });
    assert.throws(() => parseArgs(['run', 'a.prompt', '--lr', '1e-4']), /--lr is for `prompt-lens finetune`/);
    assert.throws(() => parseArgs(['finetune', 'a.prompt', '--line', '3']), /--line is for `prompt-lens run`/);
    assert.throws(() => parseArgs(['run', 'a.prompt', '--timesteps', '5-2']), /ends before it starts/);
    assert.throws(() => parseArgs(['finetune', 'a.prompt', '--lr', '3']), /--lr must be a number between 0 and 1/);
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

  test('check takes one model and nothing else', () => {
    assert.deepEqual(parseArgs(['check', 'models/sd15-onnx']), { command: 'check', model: 'models/sd15-onnx' });
    assert.throws(() => parseArgs(['check']), UsageError);
    assert.throws(() => parseArgs(['check', 'a', 'b']), UsageError);
    assert.throws(() => parseArgs(['check', '--provider']), UsageError);
  });
});
