// The run history's grouping (vscode- and DOM-free: used by the run panel's webview and unit-tested).
import type { HistoryItem } from './protocol';

/** Runs one Generate wrote for a seed list: neighbours in the history (newest first) with the same prompt and steps, distinct seeds, written within a minute of each other. */
export function historyGroups(history: readonly HistoryItem[]): HistoryItem[][] {
  const groups: HistoryItem[][] = [];
  for (const run of history) {
    const group = groups[groups.length - 1];
    const last = group?.[group.length - 1];
    const together =
      last !== undefined &&
      !run.filtered &&
      !last.filtered &&
      last.prompt === run.prompt &&
      last.steps === run.steps &&
      !group.some((r) => r.seed === run.seed) &&
      Math.abs(Date.parse(last.createdAt) - Date.parse(run.createdAt)) < 60_000;
    if (together) group.push(run);
    else groups.push([run]);
  }
  return groups;
}
