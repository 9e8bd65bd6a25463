/** The finetune's pure maths: loss backward, map scatter, key gradient, optimiser, clipping, regularisers, guard. */
export { sepEnLossAndGrad, type LossMaps, type LossWeights, type MaxAt, type SepEnLoss } from './lossGradients';
export { gaussianSmooth3x3Adjoint } from './smoothingAdjoint';
export { mapGradToProbs, objectMaps, type LayerProbs, type MapLayout, type ObjectMaps } from './mapGradients';
export { attentionProbs, keyWeightGradient, toTorchLayout, transpose2d, type KeyGradSample, type KeyShape } from './keyGradient';
export { AdamW, type AdamWOptions, type AdamWState } from './adamw';
export { clipGradNorm } from './clip';
export { attentionKeep, keyPull, type Regulariser } from './regularisers';
export { DivergenceGuard, type GuardOptions } from './guard';
