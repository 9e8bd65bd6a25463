// A model folder's recommended settings (`prompt_lens.json` beside `model_index.json`), e.g.
// {"defaults": {"guidance": 2, "steps": 20}, "finetune": {"lr": 1e-4, "steps": 200}, "detector": "tiny-shapes"}:
// a .prompt file that leaves a run setting out gets the model's value instead of the engine's Stable Diffusion
// defaults (values obey the front matter's rules), a finetune without an explicit rate or length gets the
// model's, and the shape detector judges its images in the world it names (default tiny-shapes').
// "scores" holds the failure and risk score recipes measured on the model (`npm run quality`), with thresholds.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Document } from 'yaml';
import { checkRecipe, isPerObject } from '../attention/scoreRecipe';
import type { MeasuredRecipe } from '../attention/failureScore';
import { DEFAULT_DETECTOR_WORLD, detectorWorldNames, findDetectorWorld, type DetectorWorld } from '../detector';
import { modelDefaultKeys, type ModelDefaultKey, type ModelDefaults } from '../promptFile';
import { settingCheckers, suggestKey } from '../promptFile/settings';
import { ModelError } from './modelFolder';

export const MODEL_DEFAULTS_FILE = 'prompt_lens.json';

const EXAMPLE = '{"defaults": {"guidance": 2, "steps": 20}}';

export function modelDefaultsPath(root: string): string {
  return path.join(root, MODEL_DEFAULTS_FILE);
}

/** The finetune settings a model recommends (measured on it: see its model card). */
export interface ModelFinetune {
  lr?: number;
  steps?: number;
  /** Weight of L_norm, which keeps single-object prompts as they were (0 = off). */
  normWeight?: number;
}

/** The failure and risk score recipes measured on a model, with their thresholds. */
export interface ModelScores {
  failure: MeasuredRecipe;
  risk: MeasuredRecipe;
}

/** The folder's recommended run settings; none when it has no defaults file. Throws a ModelError naming the file and every bad key. */
export async function readModelDefaults(root: string): Promise<ModelDefaults> {
  return (await readModelSettings(root)).defaults;
}

/** The folder's recommended finetune settings (same file and errors as readModelDefaults). */
export async function readModelFinetune(root: string): Promise<ModelFinetune> {
  return (await readModelSettings(root)).finetune;
}

/** The detector world the folder names ("detector"), else tiny-shapes' (same file and errors as readModelDefaults). */
export async function readModelDetectorWorld(root: string): Promise<DetectorWorld> {
  const { detector } = await readModelSettings(root);
  return (detector !== undefined && findDetectorWorld(detector)) || DEFAULT_DETECTOR_WORLD;
}

/** The folder's measured score recipes; undefined when it has none (same file and errors as readModelDefaults). */
export async function readModelScores(root: string): Promise<ModelScores | undefined> {
  return (await readModelSettings(root)).scores;
}

interface ModelSettings {
  defaults: ModelDefaults;
  finetune: ModelFinetune;
  /** A known detector world's name, when the file names one. */
  detector?: string;
  scores?: ModelScores;
}

async function readModelSettings(root: string): Promise<ModelSettings> {
  const file = modelDefaultsPath(root);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    // No file (or no folder: opening the model reports that) means no recommendations.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { defaults: {}, finetune: {} };
    throw new ModelError(`${file}: cannot be read: ${error instanceof Error ? error.message : String(error)}`, root);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)}); expected e.g. ${EXAMPLE}`, root);
  }
  const { problems, ...settings } = checkModelDefaults(json);
  if (problems.length > 0) throw new ModelError(problems.map((problem) => `${file}: ${problem}`).join('\n'), root);
  return settings;
}

/** Validates the parsed JSON: every problem, each naming its key. */
export function checkModelDefaults(json: unknown): ModelSettings & { problems: string[] } {
  const defaults: ModelDefaults = {};
  const finetune: ModelFinetune = {};
  if (!isRecord(json) || !isRecord(json.defaults)) {
    return { defaults, finetune, problems: [`expected an object with a "defaults" object, e.g. ${EXAMPLE}`] };
  }
  const problems = Object.keys(json)
    .filter((key) => !['defaults', 'finetune', 'detector', 'scores'].includes(key))
    .map((key) => `unknown key "${key}"; the file holds only "defaults", "finetune", "detector" and "scores"`);
  if (json.finetune !== undefined) problems.push(...checkFinetune(json.finetune, finetune));
  let detector: string | undefined;
  if (json.detector !== undefined) {
    if (typeof json.detector === 'string' && findDetectorWorld(json.detector)) detector = json.detector;
    else problems.push(`"detector" must name a detector world (${detectorWorldNames().join(', ')}), got ${JSON.stringify(json.detector)}`);
  }
  const scores = json.scores === undefined ? undefined : checkScores(json.scores, problems);
  for (const [key, value] of Object.entries(json.defaults)) {
    if (!isModelDefaultKey(key)) {
      problems.push(unknownKeyProblem(key));
      continue;
    }
    const checked = settingCheckers[key](new Document().createNode(value));
    if ('error' in checked) problems.push(`"defaults.${key}" must be ${checked.error}`);
    else (defaults as Record<string, unknown>)[key] = checked.value;
  }
  return { defaults, finetune, ...(detector !== undefined ? { detector } : {}), ...(scores ? { scores } : {}), problems };
}

/** "scores": {"failure": recipe with a per-object statistic, "risk": recipe with any statistic}, each with an optional "threshold" >= 0. */
function checkScores(json: unknown, problems: string[]): ModelScores | undefined {
  if (!isRecord(json)) {
    problems.push('"scores" must be an object with "failure" and "risk" recipes');
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(json)) if (key !== 'failure' && key !== 'risk') problems.push(`unknown key "scores.${key}"; allowed: failure, risk`);
  const read = (role: 'failure' | 'risk'): MeasuredRecipe | undefined => {
    if (json[role] === undefined) {
      problems.push(`"scores.${role}" is missing; "scores" needs both a failure and a risk recipe`);
      return undefined;
    }
    const checked = checkRecipe(json[role], `scores.${role}`);
    problems.push(...checked.problems);
    if (!checked.recipe) return undefined;
    if (role === 'failure' && !isPerObject(checked.recipe.statistic)) {
      problems.push(`"scores.failure.statistic" must be per object (activation or mean-attention) to name the object that may be missing, got ${checked.recipe.statistic}`);
    }
    const threshold = (json[role] as Record<string, unknown>).threshold;
    if (threshold === undefined) return checked.recipe;
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
      problems.push(`"scores.${role}.threshold" must be a number >= 0, got ${JSON.stringify(threshold)}`);
      return undefined;
    }
    return { ...checked.recipe, threshold };
  };
  const failure = read('failure');
  const risk = read('risk');
  return problems.length === before && failure && risk ? { failure, risk } : undefined;
}

/** "finetune": {"lr": a rate in (0, 1], "steps": an integer from 1 to 100000 (the promptLens.finetune settings' ranges), "normWeight": >= 0}. */
function checkFinetune(json: unknown, into: ModelFinetune): string[] {
  if (!isRecord(json)) return ['"finetune" must be an object, e.g. {"lr": 0.0001, "steps": 200}'];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === 'lr') {
      if (typeof value === 'number' && value > 0 && value <= 1) into.lr = value;
      else problems.push(`"finetune.lr" must be a learning rate above 0 and at most 1, got ${JSON.stringify(value)}`);
    } else if (key === 'steps') {
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100000) into.steps = value;
      else problems.push(`"finetune.steps" must be an integer from 1 to 100000, got ${JSON.stringify(value)}`);
    } else if (key === 'normWeight') {
      if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) into.normWeight = value;
      else problems.push(`"finetune.normWeight" must be a number >= 0 (the weight of L_norm; 0 = off), got ${JSON.stringify(value)}`);
    } else problems.push(`unknown setting "finetune.${key}"; allowed: lr, steps, normWeight`);
  }
  return problems;
}

function unknownKeyProblem(key: string): string {
  const allowed = `allowed: ${modelDefaultKeys.join(', ')}`;
  if (key === 'model' || key === 'seed') {
    return `"defaults.${key}" cannot be a model default (it belongs in the .prompt file's front matter); ${allowed}`;
  }
  const suggestion = suggestKey(key);
  const hint = suggestion && isModelDefaultKey(suggestion) ? `did you mean "${suggestion}"? ` : '';
  return `unknown setting "defaults.${key}"; ${hint}${allowed}`;
}

function isModelDefaultKey(key: string): key is ModelDefaultKey {
  return (modelDefaultKeys as readonly string[]).includes(key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "guidance 2, steps 20", for logs and the compatibility check. */
export function describeModelDefaults(defaults: ModelDefaults): string {
  return modelDefaultKeys
    .filter((key) => defaults[key] !== undefined)
    .map((key) => {
      const value = defaults[key];
      const shown = typeof value === 'object' ? `${value.width}x${value.height}` : typeof value === 'string' ? JSON.stringify(value) : String(value);
      return `${key} ${shown}`;
    })
    .join(', ');
}
