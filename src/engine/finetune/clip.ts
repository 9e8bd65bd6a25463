/**
 * Gradient clipping by global norm over every finetuned layer's gradient,
 * as torch.nn.utils.clip_grad_norm_ (official max norm 1.0, docs/method.md §3):
 *   norm = sqrt(sum of all squares);  coef = maxNorm / (norm + 1e-6)
 *   if coef < 1: every gradient *= coef
 * (torch clamps coef at 1 and always multiplies: the same thing.)
 * A non-finite norm leaves the gradients alone and is returned, so the
 * divergence guard can stop the run instead of writing NaN into the weights.
 */
export function clipGradNorm(grads: readonly (Float64Array | Float32Array)[], maxNorm = 1.0): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
