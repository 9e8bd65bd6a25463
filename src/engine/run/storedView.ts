// A run's display maps for other layers, heads or steps, aggregated from the attention its folder kept
// (attention.safetensors): a view of that run, nothing sampled and nothing written.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SelectionOptions } from '../attention';
import { InputError } from '../files/errors';
import { aggregateStored, canAggregate, decodeAttentionStore } from '../record/attentionStore';
import { RecordError } from '../record/check';
import { ATTENTION_FILE, RUN_JSON } from '../record/files';
import { readRunRecord } from '../record/read';
import { mapRecipe } from './attentionAnalysis';

export interface StoredMapsView {
  /** Maps in the record's `words` order, `[mapHeight, mapWidth]` each. */
  maps: Float32Array[];
  mapHeight: number;
  mapWidth: number;
  mapRecipe: string;
}

/**
 * The maps of the run in `folder` aggregated for `selection`; undefined when the run kept no attention (older
 * runs) or only step sums and `selection` asks for part of the steps (then only sampling again can tell).
 */
export async function storedMaps(folder: string, selection: SelectionOptions): Promise<StoredMapsView | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path.join(folder, ATTENTION_FILE));
  } catch {
    return undefined;
  }
  const store = decodeAttentionStore(bytes, path.join(folder, ATTENTION_FILE));
  if (!canAggregate(store, selection)) return undefined;
  const record = await readRunRecord(folder);
  const { words } = record;
  const mapHeight = record.maps?.height;
  const mapWidth = record.maps?.width;
  if (!words || mapHeight === undefined || mapWidth === undefined) throw new RecordError(path.join(folder, RUN_JSON), "does not list the run's words and map size");
  let aggregated: ReturnType<typeof aggregateStored>;
  try {
    aggregated = aggregateStored(store, selection, words, mapHeight, mapWidth);
  } catch (error) {
    throw new InputError(`selection: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { maps: aggregated.maps, mapHeight, mapWidth, mapRecipe: mapRecipe(selection, aggregated.grids, record.settings?.steps ?? store.steps, mapHeight, mapWidth) };
}
