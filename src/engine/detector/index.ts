// Detector of coloured shapes for the embedded tiny-shapes model (see detector.ts).
export * from './palette';
export * from './caption';
export * from './segment';
export * from './shape';
export * from './match';
export * from './detector';
