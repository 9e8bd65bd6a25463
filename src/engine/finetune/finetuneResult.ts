// A finetune with its evidence, in memory (what its report is built from) and as finetune.json.
import type { RunFiles } from '../record/schema';
import type { RunDetection, RunResult } from '../record/runResult';
import type { FinetuneSettings } from './finetuneSettings';
import type { FinetuneOptions, FinetuneStep } from './trainer';

export type PromptGroup = 'trained' | 'held-out' | 'single-object';

/** One prompt and seed, sampled with the base keys and with the finetuned keys. */
export interface Comparison {
  group: PromptGroup;
  prompt: string;
  seed: number;
  before: RunResult;
  after: RunResult;
  /** The two run folders, relative to the finetune's folder, and the pictures each holds. */
  beforeFolder: string;
  afterFolder: string;
  beforeFiles: RunFiles;
  afterFiles: RunFiles;
}

export interface FinetuneRunResult {
  options: FinetuneOptions;
  /** Where the rate and the length came from. */
  optionSources: FinetuneSettings['sources'];
  trainedPrompts: string[];
  trainedLayers: string[];
  curve: FinetuneStep[];
  stopped?: string;
  trainMs: number;
  comparisons: Comparison[];
}

/** One side of a comparison in finetune.json: its run folder and the scores a table needs. */
interface ComparisonSideJson {
  folder: string;
  overlap?: number;
  activations?: { word: string; value: number }[];
  weakest?: string;
  detection?: RunDetection;
}

/** finetune.json as written; read back, it is a FinetuneRecord (record/schema.ts). */
export interface FinetuneJson {
  model: { id: string; hash: string };
  options: FinetuneOptions;
  optionSources: FinetuneSettings['sources'];
  /** The key set, relative to the folder. */
  keys: string;
  trainedPrompts: string[];
  trainedLayers: string[];
  stopped?: string;
  trainMs: number;
  curve: FinetuneStep[];
  comparisons: { group: PromptGroup; prompt: string; seed: number; before: ComparisonSideJson; after: ComparisonSideJson }[];
}

/** The machine-readable summary: settings, curve and each comparison's scores and detector verdicts. */
export function finetuneJson(result: FinetuneRunResult, model: { id: string; hash: string }, keys: string): FinetuneJson {
  const side = (folder: string, r: RunResult): ComparisonSideJson => ({
    folder,
    overlap: r.scores?.overlap,
    activations: r.scores?.activations,
    weakest: r.scores?.weakest,
    detection: r.detection,
  });
  return {
    model,
    options: result.options,
    optionSources: result.optionSources,
    keys,
    trainedPrompts: result.trainedPrompts,
    trainedLayers: result.trainedLayers,
    stopped: result.stopped,
    trainMs: result.trainMs,
    curve: result.curve,
    comparisons: result.comparisons.map((c) => ({
      group: c.group,
      prompt: c.prompt,
      seed: c.seed,
      before: side(c.beforeFolder, c.before),
      after: side(c.afterFolder, c.after),
    })),
  };
}
