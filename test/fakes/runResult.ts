// A run result with made-up maps and scores, for tests of the views and hovers that read run records.
// `shift` varies every value, so two results (a before and an after) differ everywhere.
import type { RunResult } from '../../src/engine/record/runResult';

export function fakeRunResult(prompt: string, shift = 0): RunResult {
  const h = 4;
  const w = 4;
  const words = prompt.split(' ');
  const map = (k: number): Float32Array => Float32Array.from({ length: h * w }, (_, i) => ((i * (k + 3) + shift) % 7) / 7);
  const steps = 3;
  return {
    prompt,
    objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 24, end: 30 }],
    settings: { seed: 5, steps, guidance: 4, eta: 0, negative: '', scheduler: 'ddim' },
    model: { id: 'tiny-shapes', path: '/m', hash: 'h' },
    provider: { name: 'cpu', fallbacks: [] },
    image: { width: 8, height: 8, channels: 3, data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 5 + shift) % 256) },
    tokens: [],
    mapHeight: h,
    mapWidth: w,
    mapRecipe: 'test',
    layers: [],
    words: words.map((word, i) => ({ word, tokenIndices: [i + 1], isObject: word === 'circle' || word === 'square', isSpecial: false, map: map(i) })),
    scores: {
      overlap: 0.2 + shift / 100, overlapMap: map(9), activations: [{ word: 'circle', value: 0.3 }, { word: 'square', value: 0.4 }], weakest: 'circle',
      enhanceLoss: 0.7, totalLoss: 0.55, pairs: [{ a: 'circle', b: 'square', iou: 0.25, ioaA: 0.5, ioaB: 0.4 }], masks: new Uint8Array(2 * h * w), basis: 'test',
    },
    timeline: { timesteps: [900, 500, 100], height: 2, width: 2, data: Float32Array.from({ length: steps * words.length * 4 }, (_, i) => i / 100) },
    detection: { success: false, objects: [{ object: 'red circle', status: 'found' }, { object: 'blue square', status: 'missing' }], detected: ['red circle'], extra: [] },
    timings: { textEncoderMs: 1, unetMs: 1, decodeMs: 1, totalMs: 3, batchSize: 1 },
  };
}
