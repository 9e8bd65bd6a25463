// A run's bytes made drawable (the decoded image, typed-array maps) and the maps the view draws from it.
import type { RunView } from '../../src/shared/protocol';
import { pngUrl, revokeUrl } from '../widgets/blobUrls';
import { mapMaxOf } from './canvas';
import type { LoadedRun, ResultsState } from './state';

export async function load(run: RunView): Promise<LoadedRun> {
  const image = new Image();
  const imageUrl = pngUrl(run.imagePng);
  image.src = imageUrl;
  try {
    await image.decode();
  } catch (error) {
    throw new Error(`the image of “${run.prompt}”, seed ${run.seed} (${run.runFolder}) does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    run,
    image,
    imageUrl,
    maps: new Float32Array(run.wordMaps),
    ...(run.timeline ? { timeline: new Float32Array(run.timeline.data) } : {}),
    ...(run.masks ? { masks: new Uint8Array(run.masks) } : {}),
  };
}

/** The runs shown until now are replaced: their images' URLs go. */
export function releaseShown(state: ResultsState): void {
  const shown = [state.single, ...(state.compare?.pairs.flatMap((p) => [p.before, p.after]) ?? [])];
  for (const loaded of shown) if (loaded) revokeUrl(loaded.imageUrl);
}

export function timelineSteps(run: RunView): number {
  return run.timeline?.steps ?? 0;
}

/** The map of word `index` at the slider's `position`: one step of the timeline, or the aggregate. */
export function mapAt(loaded: LoadedRun, index: number, position: number): { map: Float32Array; h: number; w: number } {
  const { run } = loaded;
  const t = run.timeline;
  if (t && loaded.timeline && position < t.steps) {
    const size = t.height * t.width;
    const at = (position * run.words.length + index) * size;
    return { map: loaded.timeline.subarray(at, at + size), h: t.height, w: t.width };
  }
  const size = run.mapHeight * run.mapWidth;
  return { map: loaded.maps.subarray(index * size, (index + 1) * size), h: run.mapHeight, w: run.mapWidth };
}

/** The maximum a map is scaled by: its own, or (shared) the largest of the prompt words' maps. */
export function scaleMax(state: ResultsState, loaded: LoadedRun, map: Float32Array): number {
  if (state.saved.scale !== 'shared') return mapMaxOf(map);
  let max = 0;
  const words = loaded.run.words;
  const plain = words.some((w) => !w.isSpecial);
  words.forEach((w, i) => {
    // <start> soaks up most attention: sharing its scale would darken every word.
    if (plain && w.isSpecial) return;
    max = Math.max(max, mapMaxOf(mapAt(loaded, i, state.position).map));
  });
  return max;
}
