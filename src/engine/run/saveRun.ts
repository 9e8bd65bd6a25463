// A run saved as every run is: its folder (record/) with its HTML report (report/), written on worker threads
// (recordWorker.ts) when they can be started, so a job's records are written while its next batch samples.
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

/** How a record is written beside others. */
export interface RecordPlacement {
  /** The record's creation time (default: now). Records of one batch share it. */
  now?: Date;
  /** The record's place in its batch (0, 1, …): folders of one second are named in that order, whichever finishes first. */
  place?: number;
  /** Nothing samples until these records are written (a job's last batch): a second record thread may take them. */
  idle?: boolean;
}

/** Writes the run's record, on a record thread when one can run. */
export function writeRunRecord(result: RunResult, runsDir: string, { now = new Date(), place = 0, idle = false }: RecordPlacement = {}): Promise<WrittenRun> {
  const firstAttempt = place + 1;
  const here = (): Promise<WrittenRun> => writeRunFolder(result, runsDir, writeHtmlReport, now, firstAttempt);
  const w = pickWorker(idle);
  if (!w) return here();
  const id = nextJob++;
  try {
    const written = new Promise<WrittenRun>((resolve, reject) => w.jobs.set(id, { resolve, reject, retry: here }));
    w.thread.postMessage({ id, result, runsDir, now: now.getTime(), firstAttempt } satisfies RecordJob);
    w.thread.ref(); // keeps the process alive while a record is out
    return written;
  } catch {
    // A result the structured clone refuses is written here, where nothing needs copying.
    w.jobs.delete(id);
    return here();
  }
}

/** The worker's script: beside this module when compiled by tsc, beside the bundle in dist/. */
const WORKER_FILE = path.join(__dirname, 'recordWorker.js');
/**
 * Two where a core is left beside the one sampling; else a second one only for records written while nothing samples
 * (a job's last batch): on two cores a second worker beside sampling only competed with it (measured: the same sweep
 * time, with more noise).
 */
const POOL_SIZE = Math.min(2, availableParallelism());
const SAMPLING_POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

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
function pickWorker(idle: boolean): RecordWorker | undefined {
  if (poolFailed) return undefined;
  const size = idle ? POOL_SIZE : SAMPLING_POOL_SIZE;
  const usable = pool.slice(0, size);
  const free = usable.find((w) => w.jobs.size === 0);
  if (free) return free;
  if (usable.length < size) {
    if (!existsSync(WORKER_FILE)) {
      poolFailed = true;
      return undefined;
    }
    const started = startWorker();
    pool.push(started);
    return started;
  }
  return usable.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
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
