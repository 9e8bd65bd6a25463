/** The finetune's pure maths: loss backward, map scatter, optimiser, clipping, guard (the key gradient is the UNet's gradient model). */
export { sepEnLossAndGrad, type SepEnLoss } from './lossGradients';
export { mapGradToProbs, objectMaps, type LayerProbs, type MapLayout, type ObjectMaps } from './mapGradients';
export { AdamW, type AdamWOptions, type AdamWState } from './adamw';
export { clipGradNorm } from './clip';
export { DivergenceGuard, type GuardOptions } from './guard';
