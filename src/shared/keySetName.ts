// A key set's readable name: what it was trained on and when. Its folder name (20261202-211019-finetune-…)
// stays in tooltips and title attributes. One naming for the run panel, the before/after view and the
// finetune report; no Node or DOM API (the webviews bundle it).

/** "Dec 2, 21:10" from a folder name that starts with its timestamp (20261202-211019-…). */
export function folderDate(id: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})/.exec(id);
  if (!m) return undefined;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${m[4]}:${m[5]}`;
}

/** "a red circle and a blue square +2 more": the first prompt it was trained on; the folder name when none is known. */
export function trainedOnLabel(prompts: readonly string[], id: string): string {
  if (prompts.length === 0) return id;
  return `${prompts[0]}${prompts.length > 1 ? ` +${prompts.length - 1} more` : ''}`;
}

/** "a red circle and a blue square +2 more · Dec 2, 21:10": what it was trained on, then when. */
export function keySetName(prompts: readonly string[], id: string): string {
  const when = folderDate(id);
  return when ? `${trainedOnLabel(prompts, id)} · ${when}` : trainedOnLabel(prompts, id);
}
