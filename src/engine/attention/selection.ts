/**
 * Which layers, heads and steps get aggregated. The options are a plain object
 * (as read from a `.prompt` file or CLI flags); `resolveSelection` checks them
 * against the model's layers once, so the hot path only does lookups.
 */
import type { LayerInfo } from './types';

/** `'all'`, one step index, or an inclusive range of step indices. */
export type StepOptions = 'all' | number | { readonly from?: number; readonly to?: number };

export interface SelectionOptions {
  /** Layer names, or dotted prefixes such as `up_blocks.1` (all layers below it). Default: all. */
  readonly layers?: readonly string[];
  /** Query grids, as a side (`16`) or `HxW` (`'16x16'`). Combined with `layers` by intersection. Default: all. */
  readonly grids?: readonly (number | string)[];
  /** Head indices, or `'all'` (default). */
  readonly heads?: 'all' | readonly number[];
  /** Step indices (0 = first sampling step). Default: all. */
  readonly steps?: StepOptions;
}

/** A validated selection. */
export interface Selection {
  /** Every layer of the model, in manifest order. */
  readonly catalogue: readonly LayerInfo[];
  /** Selected layers, in manifest order. */
  readonly layers: readonly LayerInfo[];
  /** True when the options named layers or grids (recipes then keep exactly those). */
  readonly explicitLayers: boolean;
  /** Inclusive step range; `to` is `Infinity` when open. */
  readonly steps: { readonly from: number; readonly to: number };
  /** True when exactly one step is selected. */
  readonly singleStep: boolean;
  /** True when every head is selected (needed to accept head-averaged maps). */
  readonly allHeads: boolean;
  hasLayer(name: string): boolean;
  hasStep(step: number): boolean;
  /** Selected head indices of a selected layer. */
  headsOf(layer: LayerInfo): readonly number[];
}

/** Parses `16`, `'16'` or `'16x8'` into `[gridH, gridW]`. */
export function parseGrid(grid: number | string): [number, number] {
  if (typeof grid === 'number') {
    if (!Number.isInteger(grid) || grid <= 0) throw new Error(`grid must be a positive integer, got ${grid}`);
    return [grid, grid];
  }
  const m = /^\s*(\d+)\s*(?:x\s*(\d+))?\s*$/i.exec(grid);
  if (!m) throw new Error(`grid must look like 16 or '16x16', got '${grid}'`);
  const h = Number(m[1]);
  const w = m[2] === undefined ? h : Number(m[2]);
  if (h <= 0 || w <= 0) throw new Error(`grid must be positive, got '${grid}'`);
  return [h, w];
}

export function gridLabel(gridH: number, gridW: number): string {
  return `${gridH}x${gridW}`;
}

function distinctGrids(layers: readonly LayerInfo[]): string[] {
  return [...new Set(layers.map((l) => gridLabel(l.gridH, l.gridW)))];
}

function selectLayers(catalogue: readonly LayerInfo[], options: SelectionOptions): LayerInfo[] {
  let chosen = [...catalogue];
  if (options.layers !== undefined) {
    if (options.layers.length === 0) throw new Error('selection.layers is empty; omit it to select every layer');
    const wanted = new Set<LayerInfo>();
    for (const name of options.layers) {
      // A dotted prefix selects a whole block, e.g. `up_blocks.1` -> its three layers.
      const hits = catalogue.filter((l) => l.name === name || l.name.startsWith(`${name}.`));
      if (hits.length === 0) {
        throw new Error(
          `unknown layer '${name}'; valid layers are:\n  ${catalogue.map((l) => l.name).join('\n  ')}`,
        );
      }
      hits.forEach((l) => wanted.add(l));
    }
    chosen = chosen.filter((l) => wanted.has(l));
  }
  if (options.grids !== undefined) {
    if (options.grids.length === 0) throw new Error('selection.grids is empty; omit it to select every grid');
    const available = distinctGrids(catalogue);
    const wanted = new Set<string>();
    for (const g of options.grids) {
      const label = gridLabel(...parseGrid(g));
      if (!available.includes(label)) {
        throw new Error(`no cross-attention layer has a ${label} grid; available grids: ${available.join(', ')}`);
      }
      wanted.add(label);
    }
    chosen = chosen.filter((l) => wanted.has(gridLabel(l.gridH, l.gridW)));
  }
  if (chosen.length === 0) {
    throw new Error(
      `no layer matches both layers [${(options.layers ?? []).join(', ')}] and grids [${(options.grids ?? []).join(', ')}]`,
    );
  }
  return chosen;
}

function checkHeads(layers: readonly LayerInfo[], heads: 'all' | readonly number[]): void {
  if (heads === 'all') return;
  if (heads.length === 0) throw new Error("selection.heads is empty; use 'all' or list head indices");
  if (new Set(heads).size !== heads.length) throw new Error(`selection.heads has duplicates: [${heads.join(', ')}]`);
  for (const h of heads) {
    if (!Number.isInteger(h) || h < 0) throw new Error(`head index must be a non-negative integer, got ${h}`);
    for (const l of layers) {
      if (h >= l.heads) throw new Error(`head ${h} is out of range for layer '${l.name}' (heads 0..${l.heads - 1})`);
    }
  }
}

function resolveSteps(steps: StepOptions, total: number | undefined): { from: number; to: number } {
  const check = (s: number, what: string): void => {
    if (!Number.isInteger(s) || s < 0) throw new Error(`${what} must be a non-negative integer, got ${s}`);
    if (total !== undefined && s >= total) throw new Error(`${what} ${s} is out of range (steps 0..${total - 1})`);
  };
  if (steps === 'all') return { from: 0, to: total === undefined ? Infinity : total - 1 };
  if (typeof steps === 'number') {
    check(steps, 'step');
    return { from: steps, to: steps };
  }
  const from = steps.from ?? 0;
  check(from, 'steps.from');
  let to: number;
  if (steps.to === undefined) {
    to = total === undefined ? Infinity : total - 1;
  } else {
    to = steps.to;
    check(to, 'steps.to');
  }
  if (to < from) throw new Error(`steps.from (${from}) is after steps.to (${to})`);
  return { from, to };
}

/**
 * Validates `options` against the model's layers. `totalSteps`, when known,
 * lets out-of-range steps fail here rather than silently select nothing.
 */
export function resolveSelection(
  catalogue: readonly LayerInfo[],
  options: SelectionOptions = {},
  totalSteps?: number,
): Selection {
  if (catalogue.length === 0) throw new Error('the model has no cross-attention layers to select from');
  const layers = selectLayers(catalogue, options);
  const heads = options.heads ?? 'all';
  checkHeads(layers, heads);
  const steps = resolveSteps(options.steps ?? 'all', totalSteps);
  const names = new Set(layers.map((l) => l.name));
  const allHeads = new Map(layers.map((l) => [l.name, Array.from({ length: l.heads }, (_, i) => i)]));
  return {
    catalogue,
    layers,
    explicitLayers: options.layers !== undefined || options.grids !== undefined,
    steps,
    singleStep: steps.from === steps.to,
    allHeads: heads === 'all',
    hasLayer: (name) => names.has(name),
    hasStep: (step) => step >= steps.from && step <= steps.to,
    headsOf: (layer) => (heads === 'all' ? (allHeads.get(layer.name) ?? []) : heads),
  };
}
