// Case 4: the output folder used to be touched first after training, so an unwritable one lost the
// training; a write failure (ENOSPC) while writing the before/after runs deleted the whole staging
// folder, keys.safetensors included. Now the folder is checked before any work, and keys survive.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { loadKeySet } from '../../src/engine/finetune/keySet';
import { loadOriginalKeys } from '../../src/engine/onnx/instrument';
import { PipelineCache } from '../../src/engine/pipeline/pipelineCache';
import { runFinetune, type RunFinetuneRequest } from '../../src/engine/run/runFinetune';
import { runPromptSeeds } from '../../src/engine/run/runPrompt';
import { OutputFolderError } from '../../src/engine/files/stagedFolder';
import { assertOneLineBadInput, MODELS, runCli, tempDir } from './helpers';

const PROMPT = `---\nmodel: tiny-shapes\nseed: 3\nsteps: 2\n---\na red [circle] and a blue [square]\n`;

/** A path no folder can be made at: below a regular file (ENOTDIR, even for root, unlike permissions). */
function unwritableDir(): string {
  const blocker = path.join(tempDir('blocked'), 'a-file');
  writeFileSync(blocker, 'not a folder');
  return path.join(blocker, 'runs');
}

/** Entries of `dir` that look like results: not hidden (staging) and not a kept keys file. */
const visibleFolders = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith('.') && !n.endsWith('.keys.safetensors'));

describe('the output folder', () => {
  const pipelines = new PipelineCache();
  const request = (work: string, runsDir: string): RunFinetuneRequest => ({
    file: path.join(work, 'a.prompt'),
    text: PROMPT,
    runsDir,
    builtinModelsDir: MODELS,
    provider: 'cpu',
    overrides: { finetuneSteps: 1 },
  });

  test('unwritable: Finetune fails before any training or sampling, naming the folder', async () => {
    const runsDir = unwritableDir();
    let trainingSteps = 0;
    let samplingSteps = 0;
    await assert.rejects(
      runFinetune(request(tempDir('work'), runsDir), pipelines, { onTrainingStep: () => trainingSteps++, onProgress: () => samplingSteps++ }),
      (e: Error) => e instanceof OutputFolderError && e.message.startsWith(`the output folder ${runsDir} cannot be written (ENOTDIR)`),
    );
    assert.equal(trainingSteps, 0);
    assert.equal(samplingSteps, 0);
  });

  test('unwritable: Generate fails before sampling', async () => {
    let samplingSteps = 0;
    await assert.rejects(runPromptSeeds(request(tempDir('work'), unwritableDir()), pipelines, { onProgress: () => samplingSteps++ }), OutputFolderError);
    assert.equal(samplingSteps, 0);
  });

  test('CLI run and finetune with an unwritable --out: exit 2, one line, before any work', () => {
    const file = path.join(tempDir('cli'), 'a.prompt');
    writeFileSync(file, PROMPT.replace('tiny-shapes', path.join(MODELS, 'tiny-shapes')));
    for (const command of ['run', 'finetune']) {
      const runsDir = unwritableDir();
      const out = runCli([command, file, '--out', runsDir, '--quiet']);
      assertOneLineBadInput(out, new RegExp(`^prompt-lens: the output folder ${runsDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} cannot be written \\(ENOTDIR\\)`));
    }
  });

  test('a disk that fills up after training: the keys are kept, their path said, no complete-looking folder left', async () => {
    const work = tempDir('full');
    const runsDir = path.join(work, 'runs');
    let trained = 0;
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const error = await runFinetune(request(work, runsDir), pipelines, {
      onTrainingStep: () => trained++,
      // The first before/after samples are where the disk "fills": everything after training fails from here.
      onSamples: () => {
        throw full;
      },
    }).then(
      () => assert.fail('the finetune should fail'),
      (e: Error) => e,
    );
    assert.equal(trained, 1);
    assert.ok(error instanceof OutputFolderError, String(error));
    const kept = /the trained keys are kept in (\S+\.keys\.safetensors)$/.exec(error.message)?.[1];
    assert.ok(kept, error.message);
    assert.match(error.message, /^training finished, but its before\/after runs failed \(ENOSPC: no space left on device, write\)/);
    assert.equal(path.dirname(kept), runsDir);
    assert.deepEqual(visibleFolders(runsDir), [], 'no folder that looks like a finished finetune');
    assert.deepEqual(readdirSync(runsDir).filter((n) => n.startsWith('.partial-')), [], 'the staging folder is gone');
    // The kept keys are a valid key set of the model.
    const pipeline = await pipelines.get(path.join(MODELS, 'tiny-shapes'), 'cpu');
    const loaded = await loadKeySet(kept, await loadOriginalKeys(pipeline.instrumented), pipeline.instrumented.layers, pipeline.model);
    assert.ok(loaded.info.trainedLayers.length > 0);
    assert.ok(existsSync(kept));
  });
});
