// Rank-based AUROC (the Mann-Whitney U statistic over all pairs): how well a score separates two groups
// of images, e.g. failed from successful generations. 0.5: the score does not see the difference.

/**
 * Probability that a random `positives` value is larger than a random `negatives` value, ties counting
 * one half. NaN when either group is empty.
 */
export function auroc(positives: readonly number[], negatives: readonly number[]): number {
  const [nP, nN] = [positives.length, negatives.length];
  if (nP === 0 || nN === 0) return NaN;
  const all = [...positives.map((value) => ({ value, positive: true })), ...negatives.map((value) => ({ value, positive: false }))];
  all.sort((a, b) => a.value - b.value);
  // Mid-ranks (1-based) so that a tie between the groups counts one half.
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].value === all[i].value) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k].positive) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (nP * (nP + 1)) / 2) / (nP * nN);
}

/** Hanley and McNeil's (1982) standard error of an AUROC `a` from group sizes: how far off a small sample may be. */
export function aurocStandardError(a: number, nPositives: number, nNegatives: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (nPositives - 1) * (q1 - a * a) + (nNegatives - 1) * (q2 - a * a)) / (nPositives * nNegatives));
}
