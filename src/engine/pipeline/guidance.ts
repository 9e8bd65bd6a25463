// Classifier-free guidance as the pipeline applies it; when it applies is promptFile/guidance.ts.

/** eps = eps_uncond + g * (eps_cond - eps_uncond). */
export function combineGuidance(uncond: Float32Array, cond: Float32Array, guidance: number): Float32Array {
  const out = new Float32Array(uncond.length);
  for (let p = 0; p < out.length; p++) out[p] = uncond[p] + guidance * (cond[p] - uncond[p]);
  return out;
}
