// The finetune length, rate and L_norm weight a run gets when neither the user nor the model's
// prompt_lens.json says otherwise: the one source the trainer, the CLI's help, the editor's settings
// descriptions (checked by a unit test) and the run panel read. No onnxruntime import, so light to load.

export const FINETUNE_DEFAULTS = {
  /** The official per-pair recipe's length. */
  steps: 200,
  // Measured on tiny-shapes (npm run finetune-table): 1e-4 lowers detector success by 10-15 points, 3e-5 leaves it
  // unchanged; the official per-pair rate for SD 1.x is 8e-6.
  lr: 3e-5,
  normWeight: 0,
} as const;
