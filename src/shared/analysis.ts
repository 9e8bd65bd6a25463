// The attention analysis panels' data: the pairwise overlap matrix, mask areas and the layer/head
// filter options (vscode- and DOM-free: used by the results webview and unit-tested).
import type { LayerView, MapFilter, ScoresView } from './protocol';

/**
 * Distinct colours for object masks, in object order (cycled past six): none is a colour the embedded model
 * draws (red, green, blue, yellow), so an outline never vanishes into the object it marks.
 */
export const MASK_COLOURS = ['#ff00ff', '#00e5ff', '#ffffff', '#9966ff', '#ff99cc', '#000000'];

export function maskColour(k: number): string {
  return MASK_COLOURS[k % MASK_COLOURS.length];
}

/** Fraction of cells inside each of the K masks (Uint8 `[K, size]`). */
export function maskAreas(masks: Uint8Array, k: number, size: number): number[] {
  const areas: number[] = [];
  for (let i = 0; i < k; i++) {
    let inside = 0;
    for (let p = i * size; p < (i + 1) * size; p++) if (masks[p]) inside++;
    areas.push(size > 0 ? inside / size : 0);
  }
  return areas;
}

export interface MatrixCell {
  /** 'iou' above the diagonal, 'ioa' (intersection over the row object's area) below it, 'area' on it. */
  kind: 'iou' | 'ioa' | 'area';
  value: number | undefined;
  /** What a screen reader or a test reads: "circle × square: IoU 0.25". */
  label: string;
}

/**
 * K×K cells in `scores.activations` order: IoU above the diagonal, intersection over the row
 * object's mask area below it, the mask's share of the picture on it (when masks are known).
 */
export function overlapMatrix(scores: ScoresView, areas?: number[]): { words: string[]; cells: MatrixCell[][] } {
  const words = scores.activations.map((a) => a.word);
  const pairOf = (a: string, b: string): ScoresView['pairs'][number] | undefined => scores.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  const cells = words.map((row, i) =>
    words.map((col, j): MatrixCell => {
      if (i === j) {
        const area = areas?.[i];
        return { kind: 'area', value: area, label: `${row}: mask area ${area === undefined ? 'unknown' : `${(100 * area).toFixed(0)}%`}` };
      }
      const pair = pairOf(row, col);
      if (i < j) return { kind: 'iou', value: pair?.iou, label: `${row} × ${col}: IoU ${fmt(pair?.iou)}` };
      const ioa = pair ? (pair.a === row ? pair.ioaA : pair.ioaB) : undefined;
      return { kind: 'ioa', value: ioa, label: `${row} × ${col}: intersection over ${row}'s area ${fmt(ioa)}` };
    }),
  );
  return { words, cells };
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2);
}

export interface FilterOption {
  /** `''` = default, `all`, `grid:16x16`, `layer:NAME`, or a head index. */
  value: string;
  label: string;
  group?: string;
}

/** "up_blocks.1.attentions.0.transformer_blocks.0.attn2" → "up_blocks.1.attentions.0". */
export function shortLayerName(name: string): string {
  return name.replace(/\.transformer_blocks\.0\.attn2$/, '');
}

/** The layer dropdown: all layers, each grid, each layer by name. */
export function layerOptions(layers: LayerView[]): FilterOption[] {
  const grids = new Map<string, number>();
  for (const l of layers) grids.set(`${l.gridH}x${l.gridW}`, (grids.get(`${l.gridH}x${l.gridW}`) ?? 0) + 1);
  return [
    // No layer option: DAAM's own choice (every grid but the coarsest).
    { value: '', label: 'Default (DAAM)' },
    { value: 'all', label: `All layers (${layers.length})` },
    ...[...grids].map(([grid, n]) => ({ value: `grid:${grid}`, label: `${grid} (${n} layer${n === 1 ? '' : 's'})`, group: 'By grid' })),
    ...layers.map((l) => ({ value: `layer:${l.name}`, label: `${shortLayerName(l.name)} · ${l.gridH}x${l.gridW}`, group: 'Layer' })),
  ];
}

/** The layers a filter's layer choice covers. */
function chosenLayers(layers: LayerView[], filter: MapFilter): LayerView[] {
  if (filter.layer !== undefined) return layers.filter((l) => l.name === filter.layer || l.name.startsWith(`${filter.layer}.`));
  if (filter.grid !== undefined) return layers.filter((l) => `${l.gridH}x${l.gridW}` === filter.grid);
  return layers;
}

/** The head dropdown: all heads, then each index up to the most heads a chosen layer has. */
export function headOptions(layers: LayerView[], filter: MapFilter): FilterOption[] {
  const heads = Math.max(0, ...chosenLayers(layers, filter).map((l) => l.heads));
  return [{ value: '', label: 'All heads' }, ...Array.from({ length: heads }, (_, h) => ({ value: String(h), label: `Head ${h}` }))];
}

export function layerValue(filter: MapFilter): string {
  return filter.layer !== undefined ? `layer:${filter.layer}` : filter.grid !== undefined ? `grid:${filter.grid}` : filter.allLayers ? 'all' : '';
}

/** The filter the dropdowns and step inputs describe (steps 1-based in the inputs, 0-based in the filter). */
export function filterFrom(layer: string, head: string, from: number, to: number, totalSteps: number): MapFilter {
  const f = Math.max(1, Math.min(totalSteps, Math.round(from) || 1));
  const t = Math.max(f, Math.min(totalSteps, Math.round(to) || totalSteps));
  return {
    ...(layer.startsWith('layer:') ? { layer: layer.slice('layer:'.length) } : {}),
    ...(layer.startsWith('grid:') ? { grid: layer.slice('grid:'.length) } : {}),
    ...(layer === 'all' ? { allLayers: true } : {}),
    ...(head !== '' && Number.isInteger(Number(head)) ? { head: Number(head) } : {}),
    ...(f !== 1 || t !== totalSteps ? { steps: { from: f - 1, to: t - 1 } } : {}),
  };
}

export function sameFilter(a: MapFilter, b: MapFilter): boolean {
  return a.layer === b.layer && a.grid === b.grid && Boolean(a.allLayers) === Boolean(b.allLayers) && a.head === b.head && a.steps?.from === b.steps?.from && a.steps?.to === b.steps?.to;
}

const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The filter from a webview message with its fields' types checked; undefined when malformed. */
export function checkedFilter(value: unknown): MapFilter | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  const steps = f.steps as { from?: unknown; to?: unknown } | undefined;
  if (f.layer !== undefined && typeof f.layer !== 'string') return undefined;
  if (f.grid !== undefined && typeof f.grid !== 'string') return undefined;
  if (f.allLayers !== undefined && typeof f.allLayers !== 'boolean') return undefined;
  if (f.head !== undefined && !isStep(f.head)) return undefined;
  if (steps !== undefined && (typeof steps !== 'object' || steps === null || !isStep(steps.from) || !isStep(steps.to))) return undefined;
  return {
    ...(typeof f.layer === 'string' ? { layer: f.layer } : {}),
    ...(typeof f.grid === 'string' ? { grid: f.grid } : {}),
    ...(f.allLayers === true ? { allLayers: true } : {}),
    ...(isStep(f.head) ? { head: f.head } : {}),
    ...(steps && isStep(steps.from) && isStep(steps.to) ? { steps: { from: steps.from, to: steps.to } } : {}),
  };
}
