// Exact McNemar test for paired binary outcomes (the same prompt and seed before and after a finetune):
// only discordant pairs count; under "no effect" each is a fair coin, so the two-sided p-value is
// twice the binomial tail of the rarer direction, capped at 1.

/** Two-sided exact p-value from the discordant counts: `gained` (failed before, succeeded after) and `lost`. */
export function mcnemarExact(gained: number, lost: number): number {
  const n = gained + lost;
  if (n === 0) return 1;
  const k = Math.min(gained, lost);
  // sum_{i <= k} C(n, i) / 2^n as a log-sum-exp, so that no term over- or underflows for any n.
  const logTerms = [-n * Math.LN2]; // i = 0: C(n, 0) / 2^n
  for (let i = 1; i <= k; i++) logTerms.push(logTerms[i - 1] + Math.log(n - i + 1) - Math.log(i));
  const top = Math.max(...logTerms);
  const logTail = top + Math.log(logTerms.reduce((s, l) => s + Math.exp(l - top), 0));
  return Math.min(1, 2 * Math.exp(logTail));
}

/** Discordant counts of paired outcomes (`before[i]` and `after[i]` are the same image's prompt and seed). */
export function discordant(before: readonly boolean[], after: readonly boolean[]): { gained: number; lost: number } {
  if (before.length !== after.length) throw new Error(`paired outcomes differ in length: ${before.length} vs ${after.length}`);
  let gained = 0;
  let lost = 0;
  before.forEach((b, i) => {
    if (!b && after[i]) gained++;
    if (b && !after[i]) lost++;
  });
  return { gained, lost };
}
