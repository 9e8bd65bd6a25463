// Detector of coloured shapes for the embedded models' worlds (see detector.ts and worlds.ts).
export * from './palette';
export * from './world';
export * from './worlds';
export * from './tinyShapes';
export * from './neglectShapes';
export * from './caption';
export * from './regions';
export * from './segment';
export * from './shape';
export * from './match';
export * from './detector';
