// Step windows of a score recipe ('1-5', 'middle', 'last-5', …) as 0-based step ranges: read by the engine's
// failure score and by the step plot the report and the results view draw.

const NAMED_WINDOWS = ['middle', 'last', 'first-half', 'second-half', 'all'] as const;

/** The 0-based inclusive step range of a window on a run of `total` steps. Throws on a malformed window. */
export function stepWindow(window: string, total: number): { from: number; to: number } {
  if (!(Number.isInteger(total) && total > 0)) throw new Error(`a run has at least one step, got ${total}`);
  const half = Math.floor(total / 2);
  switch (window) {
    case 'middle':
      return { from: half, to: half };
    case 'last':
      return { from: total - 1, to: total - 1 };
    case 'first-half':
      return { from: 0, to: Math.max(0, half - 1) };
    case 'second-half':
      return { from: half, to: total - 1 };
    case 'all':
      return { from: 0, to: total - 1 };
  }
  const last = /^last-(\d+)$/.exec(window);
  if (last) {
    const n = Number(last[1]);
    if (n < 1) throw new Error(`steps '${window}': the window needs at least one step`);
    return { from: Math.max(0, total - n), to: total - 1 };
  }
  const range = /^(\d+)(?:-(\d+))?$/.exec(window);
  if (!range) {
    throw new Error(`steps '${window}' is not a window; use e.g. '1-5', '11', 'last-5' or one of ${NAMED_WINDOWS.join(', ')}`);
  }
  const from = Number(range[1]);
  const to = range[2] === undefined ? from : Number(range[2]);
  if (from < 1 || to < from) throw new Error(`steps '${window}': steps count from 1 and the range must not run backwards`);
  if (from > total) throw new Error(`steps '${window}' starts after the run's last step (${total})`);
  return { from: from - 1, to: Math.min(to, total) - 1 };
}
