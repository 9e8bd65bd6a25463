/**
 * A score recipe says, as data, how a number is read off a run's cross-attention, in DAAM's order of
 * aggregation steps: which layers (by grid and/or name; several grids are brought to the coarsest by area
 * mean, then averaged), how heads are combined (the map's head mean, or the statistic's maximum over heads
 * as Separate-and-Enhance takes it), which sampling steps (a window; the per-step values are averaged over
 * it) and which statistic of the objects' maps. Recipes are chosen by measurement per model (its
 * `prompt_lens.json`, `npm run quality`), so the same code reads the embedded model's 8x8 layers and
 * Stable Diffusion's 16x16 ones.
 */
import { stepWindow } from '../../shared/stepWindow';
import { gridLabel, parseGrid } from './selection';
import type { LayerInfo } from './types';

/**
 * - `activation`: per object, S&E's a_i, the peak of its 3x3-Gaussian-smoothed map (higher: more present);
 * - `mean-attention`: per object, its map's mean over the grid (the share of attention it gets);
 * - `separate`, `enhance`, `loss`: per image, Separate-and-Enhance's loss terms exactly (docs/method.md §2):
 *   L_sep = max prod/sum, L_en = 1 - min_i a_i, L = L_sep + 0.5 L_en (higher: worse).
 */
export const RECIPE_STATISTICS = ['activation', 'mean-attention', 'separate', 'enhance', 'loss'] as const;
export type RecipeStatistic = (typeof RECIPE_STATISTICS)[number];

export const RECIPE_HEADS = ['mean', 'max'] as const;
export type RecipeHeads = (typeof RECIPE_HEADS)[number];

export interface RecipeLayers {
  /** Query grids, `'8x8'` or `8`. */
  readonly grids?: readonly (string | number)[];
  /** Layer names or dotted prefixes (`mid_block`, `up_blocks.1`). Combined with `grids` by intersection. */
  readonly names?: readonly string[];
}

export interface ScoreRecipe {
  readonly layers: RecipeLayers;
  readonly heads: RecipeHeads;
  /**
   * Steps, 1-based (step 1 = noisiest): `'1-5'`, `'11'`, `'middle'` (step floor(n/2) + 1, the run record's
   * S&E step), `'last'`, `'last-5'`, `'first-half'`, `'second-half'`, `'all'`. A range longer than the run is
   * cut to it.
   */
  readonly steps: string;
  readonly statistic: RecipeStatistic;
}

/** Per object (the failure score can name the object) or one value per image. */
export function isPerObject(statistic: RecipeStatistic): boolean {
  return statistic === 'activation' || statistic === 'mean-attention';
}

/** Whether a lower value is the worse one (the object fades) rather than a higher one (a loss). */
export function lowerIsWorse(statistic: RecipeStatistic): boolean {
  return isPerObject(statistic);
}

/** "1-5", "11", for the record and verdicts: the steps a window took on a run (1-based). */
export function describeWindow(range: { from: number; to: number }): string {
  return range.from === range.to ? `step ${range.from + 1}` : `steps ${range.from + 1}–${range.to + 1}`;
}

/** The model's layers a recipe reads, in graph order; throws naming what exists when nothing matches. */
export function recipeLayers(catalogue: readonly LayerInfo[], layers: RecipeLayers): LayerInfo[] {
  let chosen = [...catalogue];
  if (layers.names !== undefined) {
    for (const name of layers.names) {
      if (!catalogue.some((l) => l.name === name || l.name.startsWith(`${name}.`))) {
        throw new Error(`no cross-attention layer is named '${name}' or below it; layers are:\n  ${catalogue.map((l) => l.name).join('\n  ')}`);
      }
    }
    chosen = chosen.filter((l) => layers.names?.some((name) => l.name === name || l.name.startsWith(`${name}.`)));
  }
  if (layers.grids !== undefined) {
    const wanted = layers.grids.map((g) => gridLabel(...parseGrid(g)));
    const available = [...new Set(catalogue.map((l) => gridLabel(l.gridH, l.gridW)))];
    const missing = wanted.filter((g) => !available.includes(g));
    if (missing.length > 0) throw new Error(`no cross-attention layer has a ${missing[0]} grid; grids are ${available.join(', ')}`);
    chosen = chosen.filter((l) => wanted.includes(gridLabel(l.gridH, l.gridW)));
  }
  if (chosen.length === 0) throw new Error(`no layer matches ${describeLayers(layers)}`);
  return chosen;
}

export function describeLayers(layers: RecipeLayers): string {
  const parts: string[] = [];
  if (layers.grids !== undefined) parts.push(`${layers.grids.map((g) => gridLabel(...parseGrid(g))).join(', ')} layers`);
  if (layers.names !== undefined) parts.push(`layers ${layers.names.join(', ')}`);
  return parts.length === 0 ? 'every layer' : parts.join(' among ');
}

const STATISTIC_LABELS: Record<RecipeStatistic, string> = {
  activation: 'activation (smoothed peak) of each object',
  'mean-attention': 'mean attention of each object',
  separate: 'S&E loss term L_sep',
  enhance: 'S&E loss term L_en',
  loss: 'S&E loss L = L_sep + 0.5 L_en',
};

/** "activation (smoothed peak) of each object · 8x8 layers, averaged · heads: mean map · steps 'second-half', mean over them". */
export function describeRecipe(recipe: ScoreRecipe): string {
  return `${STATISTIC_LABELS[recipe.statistic]} · ${describeLayers(recipe.layers)}, averaged · heads: ${recipe.heads === 'mean' ? 'mean map' : 'max of the statistic'} · steps '${recipe.steps}', mean over them`;
}

/** A short stable name, for tables: "activation/8x8/mean/second-half". */
export function recipeName(recipe: ScoreRecipe): string {
  const layers = [...(recipe.layers.grids ?? []).map((g) => gridLabel(...parseGrid(g))), ...(recipe.layers.names ?? [])].join('+') || 'all';
  return `${recipe.statistic}/${layers}/${recipe.heads}/${recipe.steps}`;
}

/** Checks a recipe read from JSON; every problem names its key under `where` (e.g. `scores.failure`). */
export function checkRecipe(json: unknown, where: string): { recipe?: ScoreRecipe; problems: string[] } {
  const example = '{"layers": {"grids": ["16x16"]}, "heads": "max", "steps": "middle", "statistic": "activation"}';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { problems: [`"${where}" must be an object, e.g. ${example}`] };
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(o)) {
    if (!['layers', 'heads', 'steps', 'statistic', 'threshold'].includes(key)) problems.push(`unknown key "${where}.${key}"; allowed: layers, heads, steps, statistic, threshold`);
  }
  const layers: { grids?: string[]; names?: string[] } = {};
  if (typeof o.layers !== 'object' || o.layers === null || Array.isArray(o.layers)) {
    problems.push(`"${where}.layers" must be an object with "grids" and/or "names", e.g. {"grids": ["16x16"]}`);
  } else {
    for (const [key, value] of Object.entries(o.layers)) {
      if (key !== 'grids' && key !== 'names') {
        problems.push(`unknown key "${where}.layers.${key}"; allowed: grids, names`);
      } else if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
        problems.push(`"${where}.layers.${key}" must be a non-empty list of strings, e.g. ${key === 'grids' ? '["8x8"]' : '["mid_block"]'}`);
      } else if (key === 'grids') {
        const bad = value.find((g: string) => !/^\s*\d+\s*(x\s*\d+)?\s*$/i.test(g));
        if (bad !== undefined) problems.push(`"${where}.layers.grids" has '${bad}'; a grid looks like '16x16'`);
        else layers.grids = value;
      } else layers.names = value;
    }
  }
  if (!(RECIPE_HEADS as readonly unknown[]).includes(o.heads)) problems.push(`"${where}.heads" must be one of ${RECIPE_HEADS.join(', ')}, got ${JSON.stringify(o.heads)}`);
  if (typeof o.steps !== 'string') {
    problems.push(`"${where}.steps" must be a window such as "1-5", "middle" or "second-half", got ${JSON.stringify(o.steps)}`);
  } else {
    try {
      stepWindow(o.steps, 1000);
    } catch (error) {
      problems.push(`"${where}.steps": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!(RECIPE_STATISTICS as readonly unknown[]).includes(o.statistic)) {
    problems.push(`"${where}.statistic" must be one of ${RECIPE_STATISTICS.join(', ')}, got ${JSON.stringify(o.statistic)}`);
  }
  if (problems.length > 0) return { problems };
  return { recipe: { layers, heads: o.heads as RecipeHeads, steps: o.steps as string, statistic: o.statistic as RecipeStatistic }, problems };
}
