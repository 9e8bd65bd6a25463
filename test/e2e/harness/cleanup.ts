// Cleanup: everything started registers a stopper; they run on normal exit, failure, timeout and signals.

export const cleanups: (() => Promise<void>)[] = [];
export const groupsToKill = new Set<number>();

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (error) {
      console.error(`[e2e] cleanup failed: ${String(error)}`);
    }
  }
}

// Last resort if the process dies without running the async cleanups.
process.on('exit', () => {
  for (const pgid of groupsToKill) killGroup(pgid, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`[e2e] ${signal}: stopping`);
    void runCleanups().finally(() => process.exit(130));
  });
}

export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}
