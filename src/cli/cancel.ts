// What a Ctrl+C left, said as it is, and exit code 130 whenever the user cancelled.
import { CancelledError } from '../engine/pipeline/pipeline';

export const EXIT_CANCELLED = 130;

export type CancellableJob = 'run' | 'finetune';

/**
 * The folders printed before the cancel are complete; the one being made when it came is removed
 * (the job threw CancelledError), or was already finished (`finished`: the job returned after the cancel).
 */
export function cancelledMessage(what: CancellableJob, written: number, finished: boolean): string {
  const folders = written === 1 ? 'the run folder printed above is' : `the ${written} run folders printed above are`;
  if (what === 'finetune') {
    return finished ? 'Cancelled too late: the finetune had finished, and its folder printed above is complete.' : 'Cancelled; no finetune folder was written.';
  }
  if (finished) return `Cancelled too late: the last run had finished, and ${folders} complete.`;
  return written === 0 ? 'Cancelled; no run folder was written.' : `Cancelled; ${folders} complete; the batch of seeds being sampled left no folder.`;
}

/**
 * Runs `job` under `signal`: exit code 0 when it finished uncancelled, else 130 with cancelledMessage, also when
 * the cancel came too late to stop it. `written` counts the folders the job has printed so far.
 */
export async function runCancellable(
  what: CancellableJob,
  signal: AbortSignal,
  written: () => number,
  write: (line: string) => void,
  job: () => Promise<void>,
): Promise<number> {
  try {
    await job();
  } catch (error) {
    if (!(error instanceof CancelledError)) throw error;
    write(cancelledMessage(what, written(), false));
    return EXIT_CANCELLED;
  }
  if (!signal.aborted) return 0;
  write(cancelledMessage(what, written(), true));
  return EXIT_CANCELLED;
}
