import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, promises as fs, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { slug, timestamp, writeStagedFolder } from '../../../src/engine/files/stagedFolder';

describe('staged output folders', () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'staged-'));

  test('appear complete under the first free name, never over an existing one', async () => {
    const fill = (text: string) => async (dir: string): Promise<void> => fs.writeFile(path.join(dir, 'a.txt'), text);
    const first = await writeStagedFolder(parent, 'run', fill('one'));
    const second = await writeStagedFolder(parent, 'run', fill('two'), async (dir, id) => fs.writeFile(path.join(dir, 'id.txt'), id));
    assert.equal(first.id, 'run');
    assert.equal(second.id, 'run-2');
    assert.equal(await fs.readFile(path.join(first.folder, 'a.txt'), 'utf8'), 'one');
    assert.equal(await fs.readFile(path.join(second.folder, 'id.txt'), 'utf8'), 'run-2');
  });

  test('a failure while writing leaves no folder, not even the staging one', async () => {
    const before = readdirSync(parent).sort();
    await assert.rejects(
      writeStagedFolder(parent, 'broken', async (dir) => {
        await fs.writeFile(path.join(dir, 'half.txt'), 'x');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.deepEqual(readdirSync(parent).sort(), before);
    assert.ok(!existsSync(path.join(parent, 'broken')));
  });

  test('names: sortable timestamps and file-system-safe slugs', () => {
    assert.equal(timestamp(new Date(2026, 10, 27, 7, 4, 3)), '20261127-070403');
    assert.equal(slug('A red [circle], and a BLUE square!'), 'a-red-circle-and-a-blue-square');
    assert.equal(slug('???'), 'run');
    assert.equal(slug('x'.repeat(60)).length, 40);
  });
});
