// Converts an engine run into the webview's message form: pixels and maps as ArrayBuffers.
import { encodePng } from '../engine/image/png';
import type { RunResult } from '../engine/run/runResult';
import type { WrittenRun } from '../engine/run/runRecord';
import type { RunView } from '../protocol/messages';

export function toRunView(result: RunResult, written: WrittenRun): RunView {
  const { mapHeight: h, mapWidth: w } = result;
  const wordMaps = new Float32Array(result.words.length * h * w);
  result.words.forEach((word, i) => wordMaps.set(word.map, i * h * w));
  const png = encodePng(result.image);
  const s = result.scores;
  return {
    runId: written.id,
    runFolder: written.folder,
    prompt: result.prompt,
    model: result.model.id,
    provider: result.provider.name,
    seed: result.settings.seed,
    steps: result.settings.steps,
    imagePng: png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer,
    mapHeight: h,
    mapWidth: w,
    words: result.words.map(({ word, tokenIndices, isObject, isSpecial }) => ({ word, tokenIndices, isObject, isSpecial })),
    wordMaps: wordMaps.buffer,
    overlapMap: (s ? Float32Array.from(s.overlapMap) : new Float32Array(h * w)).buffer,
    scores: s && {
      overlap: s.overlap,
      activations: s.activations,
      weakest: s.weakest,
      enhanceLoss: s.enhanceLoss,
      totalLoss: s.totalLoss,
      pairs: s.pairs,
    },
    totalMs: result.timings.totalMs,
  };
}
