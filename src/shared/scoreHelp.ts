// What each score row means and which way is better, for the rows' tooltips (vscode- and DOM-free).
// The numbers are Separate-and-Enhance's (docs/method.md §2), computed on the run's 16x16-equivalent layers.

export const SCORE_HELP = {
  overlap:
    'Overlap (L_sep): the largest value over the pixels of ∏M / ΣM, the product over the sum of the objects\u2019 attention maps. 0 when no pixel is attended by two objects; at most 1/K for K objects (0.5 for two). Lower is better: high means the objects share pixels and may merge.',
  activation:
    'Activation: the object word\u2019s smoothed peak attention (0–1). Higher is better: a low value means the model barely attends to the word, and the object may be left out.',
  weakest: 'The object with the lowest activation: the one most likely to be left out.',
  enhanceLoss: 'Enhance loss (L_en = 1 − the weakest activation). Lower is better: 0 when every object is attended at full strength.',
  totalLoss: 'Separate-and-Enhance loss of this run: overlap + 0.5 × enhance loss, what the finetune lowers. Lower is better.',
  pair: 'Object masks: each object\u2019s map above 0.4 of its maximum. IoU: shared area over the union (0 separate, 1 the same area). IoA: shared area over each object\u2019s own area. Lower is better.',
} as const;

/** The tooltip of a before/after row by its label. */
export function helpFor(label: string): string {
  if (label.startsWith('Overlap')) return SCORE_HELP.overlap;
  if (label.startsWith('Activation')) return SCORE_HELP.activation;
  if (label.startsWith('Enhance') || label.startsWith('L_en')) return SCORE_HELP.enhanceLoss;
  if (label.startsWith('Loss') || label.startsWith('L =')) return SCORE_HELP.totalLoss;
  if (label.startsWith('IoU')) return SCORE_HELP.pair;
  return '';
}
