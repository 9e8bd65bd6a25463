// Staging folders a crashed or killed run left behind are swept when a runs folder is opened, once a
// day old and their writer gone; never one a live process may still be writing.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { clearRunCache, findRuns } from '../../src/engine/history';
import { STALE_STAGING_MS, sweepStaging } from '../../src/engine/files/stagedFolder';
import { tempDir } from './helpers';

/** A pid no process has (above Linux's pid_max limit of 2^22). */
const DEAD_PID = 99_999_999;

function staging(dir: string, name: string, ageMs: number, innerAgeMs = ageMs): void {
  const folder = path.join(dir, name);
  mkdirSync(path.join(folder, 'before'), { recursive: true });
  const file = path.join(folder, 'before', 'image.png');
  writeFileSync(file, 'x');
  const inner = (Date.now() - innerAgeMs) / 1000;
  utimesSync(file, inner, inner);
  utimesSync(path.join(folder, 'before'), inner, inner);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(folder, t, t);
}

describe('sweeping staging folders', () => {
  test('removes old ones whose writer is gone; keeps fresh ones, live writers\' and ones with a fresh file inside', async () => {
    const dir = tempDir('sweep');
    const old = STALE_STAGING_MS + 60_000;
    staging(dir, `.partial-${DEAD_PID}-aaaaaaaaaaaa`, old);
    staging(dir, '.partial-bbbbbbbbbbbb', old); // the name before pids were in it
    staging(dir, `.partial-${DEAD_PID}-cccccccccccc`, 60_000);
    staging(dir, `.partial-${process.pid}-dddddddddddd`, old);
    staging(dir, `.partial-${DEAD_PID}-eeeeeeeeeeee`, old, 1000);
    mkdirSync(path.join(dir, '20261202-run'));
    const removed = await sweepStaging(dir);
    assert.deepEqual(removed.sort(), [`.partial-${DEAD_PID}-aaaaaaaaaaaa`, '.partial-bbbbbbbbbbbb']);
    assert.deepEqual(readdirSync(dir).sort(), [`.partial-${DEAD_PID}-cccccccccccc`, `.partial-${DEAD_PID}-eeeeeeeeeeee`, `.partial-${process.pid}-dddddddddddd`, '20261202-run'].sort());
  });

  test('opening a runs folder for its history sweeps it', async () => {
    const dir = tempDir('history');
    staging(dir, `.partial-${DEAD_PID}-ffffffffffff`, STALE_STAGING_MS + 60_000);
    clearRunCache();
    assert.deepEqual(await findRuns(dir), []);
    assert.deepEqual(readdirSync(dir), []);
  });
});
