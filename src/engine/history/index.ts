export { findRuns, latestRunFor, clearRunCache, wordInRun, parseRunJson, type RunSummary, type WordInRun } from './runHistory';
export { decodePng, thumbnailPng } from './thumbnail';
export { findKeySets, type KeySetSummary } from './keySets';
