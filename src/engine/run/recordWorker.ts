// Worker thread of saveRun.ts: writes run records (pictures, maps, run.json, report, the staged folder's rename)
// on an event loop of its own. The main thread's loop turns only between UNet calls (onnxruntime-node runs them
// there), and a record takes dozens of file operations, so records written there wait on sampling.
import { parentPort } from 'node:worker_threads';
import { writeRunFolder } from '../record/writeRun';
import { writeHtmlReport } from '../report/htmlReport';
import type { RecordJob, RecordReply } from './saveRun';

// One record at a time, in the order they came.
let queue: Promise<void> = Promise.resolve();

parentPort?.on('message', (job: RecordJob) => {
  queue = queue.then(() => write(job));
});

async function write({ id, result, runsDir, now, firstAttempt }: RecordJob): Promise<void> {
  try {
    const written = await writeRunFolder(result, runsDir, writeHtmlReport, new Date(now), firstAttempt);
    parentPort?.postMessage({ id, written } satisfies RecordReply);
  } catch (error) {
    const { name, message, code } = error instanceof Error ? (error as NodeJS.ErrnoException) : { name: 'Error', message: String(error), code: undefined };
    parentPort?.postMessage({ id, error: { name, message, ...(code ? { code } : {}) } } satisfies RecordReply);
  }
}
