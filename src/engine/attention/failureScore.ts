/**
 * Which image failed and which object was lost: per image, a failure score for each marked object (the
 * weakest leads) from the model's failure recipe; per prompt, a risk score from the early steps (the
 * weakest object's value in the risk recipe's window, or an S&E loss term of the whole image). Each comes with the threshold measured on the model
 * (`prompt_lens.json`, chosen by `npm run quality`), so a verdict can be phrased; a model without measured
 * recipes gets the paper's layers and no threshold, and the verdict says so.
 */
import { stepWindow } from '../../shared/stepWindow';
import { describeRecipe, describeWindow, isPerObject, type ScoreRecipe } from './scoreRecipe';
import { windowMean, type RecipeSeries } from './recipeSeries';
import { gridLabel } from './selection';
import type { LayerInfo } from './types';

/**
 * A recipe with the value measured on the model: objects that appear (failure) score at least this; images that
 * succeed (risk) score at least this on a per-object statistic, at most this on a loss term.
 */
export interface MeasuredRecipe extends ScoreRecipe {
  readonly threshold?: number;
}

export interface ModelScoreRecipes {
  readonly failure: MeasuredRecipe;
  readonly risk: MeasuredRecipe;
  /** `model`: measured on it (its prompt_lens.json); `engine`: the unmeasured default. */
  readonly source: 'model' | 'engine';
}

/** The paper's loss maps (the 16x16-equivalent layers, per head) at the middle step; early steps for the risk. Not measured. */
export function defaultScoreRecipes(catalogue: readonly LayerInfo[]): ModelScoreRecipes {
  const sides = [...new Set(catalogue.map((l) => l.gridW))];
  const side = sides.reduce((best, s) => (Math.abs(s - 16) < Math.abs(best - 16) ? s : best));
  const grid = catalogue.find((l) => l.gridW === side) as LayerInfo;
  const layers = { grids: [gridLabel(grid.gridH, grid.gridW)] };
  return {
    failure: { layers, heads: 'max', steps: 'middle', statistic: 'activation' },
    risk: { layers, heads: 'max', steps: '1-5', statistic: 'activation' },
    source: 'engine',
  };
}

export interface ObjectFailure {
  word: string;
  score: number;
  /** Whether the score reaches the model's threshold (absent without one). */
  appears?: boolean;
}

export interface FailureScores {
  failure: {
    recipe: MeasuredRecipe;
    description: string;
    /** The steps the window took on this run, e.g. "steps 11–20". */
    steps: string;
    /** Weakest first. */
    objects: ObjectFailure[];
    /** Per object in mark order, the statistic at every sampling step (`[object][step]`): each object's activation over the steps. */
    series: { word: string; values: number[] }[];
    verdict: string;
  };
  risk: {
    recipe: MeasuredRecipe;
    description: string;
    steps: string;
    /** The weakest object's value over the early window, or the image's loss term there. */
    score: number;
    /** The weakest object (per-object statistics only). */
    word?: string;
    atRisk?: boolean;
    verdict: string;
  };
  source: ModelScoreRecipes['source'];
}

/** The series the recipes need, for `RecipeSeries`. */
export function recipeSpecs(recipes: ModelScoreRecipes): ScoreRecipe[] {
  return [recipes.failure, recipes.risk];
}

/** A recipe's statistic in a verdict's words. */
function label(recipe: ScoreRecipe): string {
  const names: Record<ScoreRecipe['statistic'], string> = { activation: 'activation', 'mean-attention': 'mean attention', separate: 'S&E overlap L_sep', enhance: 'S&E L_en', loss: 'S&E loss' };
  return names[recipe.statistic];
}

export function evaluateFailure(series: RecipeSeries, recipes: ModelScoreRecipes, words: readonly string[], steps: number): FailureScores {
  if (!isPerObject(recipes.failure.statistic)) throw new Error(`the failure recipe needs a per-object statistic (activation or mean-attention), got ${recipes.failure.statistic}`);
  const failureWindow = stepWindow(recipes.failure.steps, steps);
  const perStep = series.series(recipes.failure);
  const scores = windowMean(perStep, failureWindow);
  const threshold = recipes.failure.threshold;
  const objects = words
    .map((word, i): ObjectFailure => ({ word, score: scores[i], ...(threshold !== undefined ? { appears: scores[i] >= threshold } : {}) }))
    .sort((a, b) => a.score - b.score);
  const weakest = objects[0];
  const measured = (t: number, who: string): string => `${who} score ≥ ${t.toFixed(2)} on this model`;
  const verdict =
    threshold === undefined
      ? `weakest object: ${weakest.word}, ${label(recipes.failure)} ${weakest.score.toFixed(2)} (no measured threshold for this model)`
      : weakest.appears
        ? `every object scores as present (weakest: ${weakest.word}, ${label(recipes.failure)} ${weakest.score.toFixed(2)}); ${measured(threshold, 'objects that appear')}`
        : `${objects.filter((o) => !o.appears).map((o) => o.word).join(' and ')} may be missing: ${label(recipes.failure)} ${weakest.score.toFixed(2)}; ${measured(threshold, 'objects that appear')}`;

  const riskWindow = stepWindow(recipes.risk.steps, steps);
  const early = windowMean(series.series(recipes.risk), riskWindow);
  // A per-object statistic: the weakest object carries the risk, lower is worse; a loss term: higher is worse.
  const perObject = isPerObject(recipes.risk.statistic);
  const at = perObject ? early.indexOf(Math.min(...early)) : 0;
  const riskThreshold = recipes.risk.threshold;
  const atRisk = riskThreshold === undefined ? undefined : perObject ? early[at] < riskThreshold : early[at] > riskThreshold;
  const riskText = `${perObject ? `${words[at]}'s` : 'the image\'s'} ${label(recipes.risk)} at ${describeWindow(riskWindow)} is ${early[at].toFixed(2)}`;
  const safeSide = riskThreshold === undefined ? '' : perObject ? measured(riskThreshold, 'images that succeed') : `images that succeed score ≤ ${riskThreshold.toFixed(2)} on this model`;
  const riskVerdict =
    riskThreshold === undefined
      ? `${riskText} (no measured threshold for this model)`
      : `${atRisk ? 'prompt at risk' : 'prompt not at risk'}: ${riskText}; ${safeSide}`;
  return {
    failure: {
      recipe: recipes.failure,
      description: describeRecipe(recipes.failure),
      steps: describeWindow(failureWindow),
      objects,
      series: words.map((word, i) => ({ word, values: perStep.map((row) => row[i]) })),
      verdict,
    },
    risk: {
      recipe: recipes.risk,
      description: describeRecipe(recipes.risk),
      steps: describeWindow(riskWindow),
      score: early[at],
      ...(perObject ? { word: words[at] } : {}),
      ...(atRisk !== undefined ? { atRisk } : {}),
      verdict: riskVerdict,
    },
    source: recipes.source,
  };
}
