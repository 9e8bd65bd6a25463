import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cancelledMessage, runCancellable } from '../../../src/cli/cancel';
import { CancelledError } from '../../../src/engine/pipeline/pipeline';

describe('Ctrl+C in prompt-lens', () => {
  test('messages say which folders are complete', () => {
    assert.equal(cancelledMessage('run', 0, false), 'Cancelled; no run folder was written.');
    assert.equal(cancelledMessage('run', 1, false), 'Cancelled; the run folder printed above is complete; the batch of seeds being sampled left no folder.');
    assert.equal(cancelledMessage('run', 2, false), 'Cancelled; the 2 run folders printed above are complete; the batch of seeds being sampled left no folder.');
    assert.equal(cancelledMessage('run', 1, true), 'Cancelled too late: the last run had finished, and the run folder printed above is complete.');
    assert.equal(cancelledMessage('finetune', 0, false), 'Cancelled; no finetune folder was written.');
    assert.equal(cancelledMessage('finetune', 1, true), 'Cancelled too late: the finetune had finished, and its folder printed above is complete.');
  });

  test('a job stopped by the cancel exits 130 with the folders written before it', async () => {
    const abort = new AbortController();
    const said: string[] = [];
    let written = 0;
    const code = await runCancellable('run', abort.signal, () => written, (l) => said.push(l), async () => {
      written++;
      abort.abort();
      throw new CancelledError();
    });
    assert.equal(code, 130);
    assert.deepEqual(said, [cancelledMessage('run', 1, false)]);
  });

  test('a cancel that came while the last record was written still exits 130, saying the run finished', async () => {
    const abort = new AbortController();
    const said: string[] = [];
    let written = 0;
    const code = await runCancellable('run', abort.signal, () => written, (l) => said.push(l), async () => {
      abort.abort(); // Ctrl+C during the write: nothing checks the signal any more
      written++;
    });
    assert.equal(code, 130);
    assert.deepEqual(said, [cancelledMessage('run', 1, true)]);
  });

  test('an uncancelled job exits 0 and says nothing; other errors pass through', async () => {
    const said: string[] = [];
    assert.equal(await runCancellable('finetune', new AbortController().signal, () => 1, (l) => said.push(l), async () => {}), 0);
    assert.deepEqual(said, []);
    await assert.rejects(
      runCancellable('run', new AbortController().signal, () => 0, () => assert.fail('nothing to say'), async () => {
        throw new RangeError('boom');
      }),
      RangeError,
    );
  });
});
