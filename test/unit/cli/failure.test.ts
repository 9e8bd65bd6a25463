import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/args';
import { failure } from '../../../src/cli/failure';
import { ModelError } from '../../../src/engine/model/modelFolder';
import { InputError } from '../../../src/engine/files/errors';

describe('prompt-lens exit codes', () => {
  test('bad input exits 2 with its one-line message', () => {
    assert.deepEqual(failure(new InputError('model: Model folder not found: /x', { file: '/a.prompt', line: 1, column: 7 })), {
      code: 2,
      message: 'prompt-lens: /a.prompt:2:8: model: Model folder not found: /x',
    });
    assert.deepEqual(failure(new ModelError('Model folder not found: /x', '/x')), { code: 2, message: 'prompt-lens: Model folder not found: /x' });
    const usage = failure(new UsageError('unknown option --bogus'));
    assert.equal(usage.code, 2);
    assert.match(usage.message, /^prompt-lens: unknown option --bogus\n\nUsage: /);
  });

  test("a file-system error exits 1 with Node's message (it names the path), no stack", () => {
    const error = Object.assign(new Error("ENOSPC: no space left on device, write '/runs/x/image.png'"), { code: 'ENOSPC', syscall: 'write' });
    assert.deepEqual(failure(error), { code: 1, message: "prompt-lens: ENOSPC: no space left on device, write '/runs/x/image.png'" });
  });

  test('anything else is a fault of Prompt Lens: exit 1 with the stack', () => {
    const error = new TypeError('x is undefined');
    const { code, message } = failure(error);
    assert.equal(code, 1);
    assert.equal(message, `prompt-lens: ${error.stack}`);
  });
});
