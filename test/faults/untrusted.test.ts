// Cases 2 and 8: paths that come from a run record or a webview message. A crafted run.json naming a
// text file outside an untrusted workspace used to make a layer filter read that file and write a run
// folder beside it; the results webview could name any folder to load, reveal and filter.
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ContainmentError } from '../../src/engine/files/containment';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import { checkedViewRef } from '../../src/results/folders';
import { allowedPath, filterSource, mayRestore } from '../../src/run/workspaceAccess';
import { fakeRunResult } from '../fakes/runResult';
import { tempDir } from './helpers';

/** An untrusted workspace holding a runs folder with one run whose record names `sourceFile`. */
async function workspaceWithRun(sourceFile: string): Promise<{ workspace: string; runsDir: string; folder: string }> {
  const workspace = tempDir('workspace');
  const runsDir = path.join(workspace, 'runs');
  const result = { ...fakeRunResult('a red circle and a blue square'), source: { file: sourceFile, line: 1 } };
  const { folder } = await writeRunRecord(result, runsDir);
  return { workspace, runsDir, folder };
}

describe('an untrusted workspace', () => {
  test('a run record naming a prompt file outside the workspace: the filter refuses, reads and writes nothing outside', async () => {
    const outsideDir = tempDir('outside');
    const secret = path.join(outsideDir, 'notes.txt');
    await fs.writeFile(secret, 'a red circle and a blue square\n');
    const { workspace, folder } = await workspaceWithRun(secret);
    await assert.rejects(
      filterSource(folder, { trusted: false, folders: [workspace] }),
      (e: Error) => e instanceof ContainmentError && e.message.startsWith(`the prompt file named by ${path.join(folder, 'run.json')} (untrusted workspace) ${secret} is outside`),
    );
    assert.deepEqual(readdirSync(outsideDir), ['notes.txt']);
    // Trusted, the same record is a filter source, and the filtered run goes to the run's own runs folder.
    const source = await filterSource(folder, { trusted: true, folders: [workspace] });
    assert.equal(source.file, secret);
    assert.equal(source.runsDir, path.dirname(folder));
  });

  test('a prompt file reached through a symlink in the workspace is judged by where it leads', async () => {
    const outside = path.join(tempDir('outside'), 'x.prompt');
    await fs.writeFile(outside, 'a [cat]\n');
    const workspace = tempDir('workspace');
    symlinkSync(path.dirname(outside), path.join(workspace, 'linked'));
    const { folder } = await workspaceWithRun(path.join(workspace, 'linked', 'x.prompt'));
    await assert.rejects(filterSource(folder, { trusted: false, folders: [workspace, path.dirname(path.dirname(folder))] }), /\(it leads to .*x\.prompt\)/);
  });

  test('a runs folder that is a symlink out of the workspace is not written to', async () => {
    const workspace = tempDir('workspace');
    const outside = tempDir('outside');
    symlinkSync(outside, path.join(workspace, 'runs'));
    await assert.rejects(allowedPath(path.join(workspace, 'runs'), { trusted: false, folders: [workspace] }, 'the runs folder'), ContainmentError);
    assert.equal(await allowedPath(path.join(workspace, 'runs'), { trusted: true, folders: [workspace] }, 'the runs folder'), path.join(workspace, 'runs'));
  });
});

describe('folders the results webview names', () => {
  test("a restore request is loaded only for a folder in the workspace or one this window showed", async () => {
    const workspace = tempDir('workspace');
    const shown = tempDir('shown');
    const outside = tempDir('outside');
    const access = { trusted: true, folders: [workspace] };
    assert.equal(await mayRestore(path.join(workspace, 'runs', 'x'), access, []), true);
    assert.equal(await mayRestore(shown, access, [shown]), true);
    assert.equal(await mayRestore(outside, access, [shown]), false);
    assert.equal(await mayRestore(path.join(workspace, '..', path.basename(outside)), access, []), false);
    symlinkSync(outside, path.join(workspace, 'link'));
    assert.equal(await mayRestore(path.join(workspace, 'link'), access, []), false);
  });

  test('a malformed view reference from the webview is dropped', () => {
    assert.deepEqual(checkedViewRef({ kind: 'run', folder: '/w/runs/x' }), { kind: 'run', folder: '/w/runs/x' });
    assert.deepEqual(checkedViewRef({ kind: 'compare', folder: '/w/runs/y', initial: 2 }), { kind: 'compare', folder: '/w/runs/y', initial: 2 });
    assert.deepEqual(checkedViewRef({ kind: 'compare', folder: '/w/runs/y', initial: -1 }), { kind: 'compare', folder: '/w/runs/y' });
    for (const bad of [null, 'x', { kind: 'run' }, { kind: 'run', folder: 'relative/x' }, { kind: 'shell', folder: '/x' }, { kind: 'run', folder: 7 }]) assert.equal(checkedViewRef(bad), undefined);
  });
});
