// A run saved as every run is: its folder (record/) with its HTML report (report/), written on worker threads
// (recordWorker.ts) when they can be started, so a seed list's records are written while its next batch samples.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../files/errors';
import { OutputFolderError } from '../files/stagedFolder';
import type { RunResult } from '../record/runResult';
import { writeRunFolder, type WrittenRun } from '../record/writeRun';
import { writeHtmlReport } from '../report/htmlReport';

/** What the main thread sends a record worker, and what comes back. */
export interface RecordJob {
  id: number;
  result: RunResult;
  runsDir: string;
  /** The record's creation time, ms since the epoch. */
  now: number;
  /** The folder name suffix to try first (writeStagedFolder). */
  firstAttempt: number;
}

export type RecordReply = { id: number; written: WrittenRun } | { id: number; error: { name: string; message: string; code?: string } };

/**
 * Writes the run's record. Records written side by side (a batch of seeds) pass one `now` and their place in the
 * batch as `firstAttempt` (1, 2, …), so their folders are named in seed order whichever worker finishes first.
 */
export function writeRunRecord(result: RunResult, runsDir: string, now = new Date(), firstAttempt = 1): Promise<WrittenRun> {
  const here = (): Promise<WrittenRun> => writeRunFolder(result, runsDir, writeHtmlReport, now, firstAttempt);
  const w = pickWorker();
  if (!w) return here();
  return new Promise<WrittenRun>((resolve, reject) => {
    const id = nextJob++;
    w.jobs.set(id, { resolve, reject, retry: here });
    w.thread.ref(); // keeps the process alive while a record is out
    w.thread.postMessage({ id, result, runsDir, now: now.getTime(), firstAttempt } satisfies RecordJob);
  });
}

/** The worker's script: beside this module when compiled by tsc, beside the bundle in dist/. */
const WORKER_FILE = path.join(__dirname, 'recordWorker.js');
/**
 * Two where a core is left beside the one sampling (the last batch's records are then written two at a time), else one: on
 * two cores a second worker only competed with sampling (measured: the same sweep time, with more noise).
 */
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

interface PendingRecord {
  resolve(written: WrittenRun): void;
  reject(error: Error): void;
  /** Writes the record on this thread: for a job its worker never answered. */
  retry(): Promise<WrittenRun>;
}

interface RecordWorker {
  thread: Worker;
  jobs: Map<number, PendingRecord>;
}

const pool: RecordWorker[] = [];
let poolFailed = false;
let nextJob = 0;

/** The worker with the fewest records out, started on demand; none where workers cannot run. */
function pickWorker(): RecordWorker | undefined {
  if (poolFailed) return undefined;
  const idle = pool.find((w) => w.jobs.size === 0);
  if (idle) return idle;
  if (pool.length < POOL_SIZE) {
    if (!existsSync(WORKER_FILE)) {
      poolFailed = true;
      return undefined;
    }
    const started = startWorker();
    pool.push(started);
    return started;
  }
  return pool.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
}

function startWorker(): RecordWorker {
  const thread = new Worker(WORKER_FILE);
  thread.unref(); // an idle worker never keeps the CLI or a test alive
  const worker: RecordWorker = { thread, jobs: new Map() };
  thread.on('message', (reply: RecordReply) => {
    const job = worker.jobs.get(reply.id);
    worker.jobs.delete(reply.id);
    if (worker.jobs.size === 0) thread.unref();
    if (!job) return;
    if ('written' in reply) job.resolve(reply.written);
    else job.reject(errorFrom(reply.error));
  });
  thread.on('error', () => failPool());
  thread.on('exit', () => failPool());
  return worker;
}

/** A write error (a full disk, a folder without write access) as the main thread would have thrown it. */
function errorFrom({ name, message, code }: { name: string; message: string; code?: string }): Error {
  if (name === 'OutputFolderError') return new OutputFolderError(message);
  if (name === 'InputError') return new InputError(message);
  const error: NodeJS.ErrnoException = new Error(message);
  error.name = name;
  if (code) error.code = code;
  return error;
}

/** A dead worker stops the pool: unanswered records and every later one are written on this thread. */
function failPool(): void {
  poolFailed = true;
  const orphans = pool.flatMap((w) => [...w.jobs.values()]);
  for (const w of pool.splice(0)) {
    w.jobs.clear();
    void w.thread.terminate();
  }
  for (const job of orphans) job.retry().then(job.resolve, job.reject);
}
