// Classifier-free guidance rules in one place: the scale a setting may hold and when the pipeline applies it.
// The front matter's check, the model's recommended settings, the run panel, the pipeline and the editor's
// diagnostics all read these, so what the editor accepts is what a run does. They sit with the prompt file's
// settings (the lowest stage that needs them); the combination itself is the pipeline's (pipeline/guidance.ts).

/** What a guidance setting must be, for messages ("guidance" must be …). */
export const GUIDANCE_EXPECTED = 'a number >= 0 (the classifier-free guidance scale)';

/** Guidance above this is far outside the range Stable Diffusion is used at (about 1–15): images burn out. */
export const HIGH_GUIDANCE = 20;

/** A scale the engine samples with: finite and not negative. */
export function isGuidanceScale(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * Whether sampling at `guidance` runs the unconditional (negative) prompt beside the prompt. At 1 the combination
 * below is the prompt's own prediction, so the pipeline skips that pass at 1 and below, as diffusers does: a scale
 * below 1 samples exactly as 1, and the negative prompt is not read.
 */
export function usesGuidance(guidance: number): boolean {
  return guidance > 1;
}
