// Cross-attention maps: select layers/heads/steps, aggregate per step as they arrive
// (DAAM display maps, Separate-and-Enhance loss maps, a coarse step timeline),
// merge tokens into words, and score them (overlap, activation, masks).
export * from './types';
export * from './selection';
export * from './bicubic';
export * from './pool';
export * from './accumulator';
export { DaamAggregator, daamLayers, type DaamOptions } from './daam';
export { SeparateEnhanceAggregator, type SeparateEnhanceOptions } from './separateEnhance';
export * from './timeline';
export * from './words';
export * from './stack';
export * from './smoothing';
export * from './scores';
export { keepTokens } from './layout';
