// Cases 1 and 5: a model's external-data entries are input like any other. A length past what one read
// takes used to abort Node (`args[3]->IsInt32()`, taking a VS Code extension host down); a symlink out of
// the model folder used to be followed, putting the outside file's bytes into the instrumented copy.
import assert from 'node:assert/strict';
import { renameSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { DataType, EXTERNAL, type TensorProto } from '../../src/engine/onnx/proto';
import { readFloatTensor, TensorDataError } from '../../src/engine/onnx/tensorData';
import { assertOneLineBadInput, externalKeyModel, runCli, tempDir } from './helpers';

/** A float32 [2, 3] tensor stored in `weights.bin` of `dir` with the given entries. */
function externalTensor(entries: Record<string, string>): TensorProto {
  return {
    name: 'to_k.weight',
    dims: [2, 3],
    dataType: DataType.FLOAT,
    dataLocation: EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  };
}

function modelFolderWithData(): string {
  const dir = tempDir('data');
  writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
  return dir;
}

function promptFor(model: string): string {
  const file = path.join(tempDir('prompt'), 'crafted.prompt');
  writeFileSync(file, `---\nmodel: ${model}\nsteps: 1\nsize: 64\n---\na photo of a [cat] and a [dog]\n`);
  return file;
}

describe('crafted external data', () => {
  for (const length of ['2147483648', '4000000000']) {
    test(`length ${length} is an error naming the tensor and the file, and the process lives on`, async () => {
      const dir = modelFolderWithData();
      await assert.rejects(
        readFloatTensor(externalTensor({ location: 'weights.bin', length }), dir),
        (e: Error) => e instanceof TensorDataError && e.message.includes('to_k.weight') && e.message.includes(path.join(dir, 'weights.bin')) && e.message.includes(length),
      );
    });
  }

  test('offsets and lengths that are not whole numbers, or pass the end of the file, are refused', async () => {
    const dir = modelFolderWithData();
    const read = (entries: Record<string, string>): Promise<unknown> => readFloatTensor(externalTensor({ location: 'weights.bin', ...entries }), dir);
    await assert.rejects(read({ offset: '-4' }), /offset "-4" is not a whole number/);
    await assert.rejects(read({ offset: '1e3' }), /offset "1e3" is not a whole number/);
    await assert.rejects(read({ length: '12' }), /length 12 bytes, but its shape and type need 24/);
    await assert.rejects(read({ offset: '16' }), /offset 16 \+ length 24 is past the file's end \(32 bytes\)/);
    const ok = await read({ offset: '8' });
    assert.deepEqual([...(ok as { values: Float32Array }).values], [3, 4, 5, 6, 7, 8]);
  });

  test('a symlink out of the model folder is refused by its real path', async () => {
    const dir = modelFolderWithData();
    const outside = path.join(tempDir('outside'), 'secret.bin');
    renameSync(path.join(dir, 'weights.bin'), outside);
    symlinkSync(outside, path.join(dir, 'weights.bin'));
    await assert.rejects(
      readFloatTensor(externalTensor({ location: 'weights.bin' }), dir),
      (e: Error) => e instanceof TensorDataError && /tensor to_k\.weight: external data .*weights\.bin leads outside the model folder/.test(e.message) && e.message.includes(outside),
    );
  });

  test('CLI: a key weight with length 2147483648 exits 2 with one line naming the tensor, no abort', () => {
    const model = externalKeyModel((entries, i) => {
      if (i === 0) entries[2].value = '2147483648';
    });
    const out = runCli(['run', promptFor(model), '--out', path.join(tempDir('runs'), 'runs')]);
    assertOneLineBadInput(out, /^prompt-lens: tensor .+ in .+weights\.bin: length 2147483648 bytes, but its shape and type need \d+$/);
  });

  test('CLI: key weights behind a symlink to a file outside the model exit 2, nothing cached from it', () => {
    const model = externalKeyModel();
    const outside = path.join(tempDir('outside'), 'weights.bin');
    renameSync(path.join(model, 'unet', 'weights.bin'), outside);
    symlinkSync(outside, path.join(model, 'unet', 'weights.bin'));
    const out = runCli(['run', promptFor(model), '--out', path.join(tempDir('runs'), 'runs')]);
    assertOneLineBadInput(out, /^prompt-lens: tensor .+: external data .+weights\.bin leads outside the model folder .+unet \(to .+\)$/);
  });
});
