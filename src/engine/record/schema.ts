// What each record holds: run.json as written (RunJson) and, for every record, what the reader checks and
// returns: run.json, finetune.json, compare.json and a key set's metadata (the on-disk format; check.ts
// holds the checks).
import type { GenerateTimings } from '../pipeline/pipeline';
import { count, fields, flag, jsonText, list, number, oneOf, optional, relativePath, size, text, type Check, type Checked } from './check';
import type { ObjectMark, RunDetection, RunFailure, RunLayer, RunResult, RunScores, RunSettings, WordMap } from './runResult';

// ---- run.json (writeRunFolder) ----

const scoresFields = fields({
  overlap: number(),
  activations: list(fields({ word: text(), value: number() })),
  weakest: text(),
  enhanceLoss: number(),
  totalLoss: number(),
  pairs: list(fields({ a: text(), b: text(), iou: number(), ioaA: number(), ioaB: number() })),
});

/** A grid in a score recipe: a side (16) or "16x16". */
const gridEntry: Check<string | number> = (v, at) => (typeof v === 'number' ? count(v, at) : text(40)(v, at));
const recipeFields = fields({
  layers: fields({ grids: optional(list(gridEntry)), names: optional(list(text())) }),
  heads: oneOf(['mean', 'max'] as const),
  steps: text(40),
  statistic: oneOf(['activation', 'mean-attention', 'separate', 'enhance', 'loss'] as const),
  threshold: optional(number()),
});
const failureFields = fields({
  failure: fields({
    recipe: recipeFields,
    description: text(),
    steps: text(),
    objects: list(fields({ word: text(), score: number(), appears: optional(flag) })),
    series: list(fields({ word: text(), values: list(number()) })),
    verdict: text(),
  }),
  risk: fields({
    recipe: recipeFields,
    description: text(),
    steps: text(),
    score: number(),
    word: optional(text()),
    atRisk: optional(flag),
    verdict: text(),
  }),
  source: oneOf(['model', 'engine'] as const),
});
const detectionFields = fields({
  success: flag,
  objects: list(fields({ object: text(), status: oneOf(['found', 'wrong-colour', 'wrong-shape', 'missing'] as const) })),
  detected: list(text()),
  extra: list(text()),
});

/**
 * The fields of a run record that anything reads back. Only `prompt` is required (the history lists
 * any run with one); every other field is optional, and checked whenever it is there.
 */
export const runRecordFields = fields({
  version: optional(count),
  id: optional(text(400)),
  createdAt: optional(text(64)),
  source: optional(fields({ file: text(4096), line: number({ integer: true, min: 1 }) })),
  prompt: text(),
  objects: optional(list(fields({ word: text(), start: count, end: count }))),
  settings: optional(
    fields({
      seed: optional(count),
      steps: optional(number({ integer: true, min: 1, max: 1000 })),
      guidance: optional(number()),
      eta: optional(number()),
      negative: optional(text()),
      size: optional(fields({ width: size, height: size })),
    }),
  ),
  model: optional(fields({ id: optional(text()), path: optional(text(4096)), hash: optional(text(400)) })),
  provider: optional(fields({ name: optional(text(400)), fallbacks: optional(list(text())) })),
  tokens: optional(list(fields({ index: count, id: count, text: text() }))),
  maps: optional(
    fields({
      file: optional(relativePath),
      height: optional(size),
      width: optional(size),
      recipe: optional(text()),
      attention: optional(relativePath),
      filteredFrom: optional(text(400)),
      timeline: optional(fields({ timesteps: list(number()), height: size, width: size })),
    }),
  ),
  words: optional(list(fields({ word: text(), tokenIndices: list(count), isObject: flag, isSpecial: flag }))),
  layers: optional(list(fields({ name: text(), gridH: size, gridW: size, heads: size }))),
  scores: optional(scoresFields),
  failure: optional(failureFields),
  detection: optional(detectionFields),
  files: optional(
    fields({
      image: optional(relativePath),
      imageLarge: optional(relativePath),
      maps: optional(list(fields({ word: text(), heat: relativePath, overlay: relativePath }))),
      overlap: optional(relativePath),
    }),
  ),
  timings: optional(fields({ totalMs: optional(number({ min: 0 })) })),
});
export type RunRecord = Checked<typeof runRecordFields>;

/** A run folder's pictures, relative to it. */
export interface RunFiles {
  image: string;
  imageLarge: string;
  maps: { word: string; heat: string; overlay: string }[];
  overlap?: string;
}

/** run.json as writeRunFolder writes it; read back, it is a RunRecord (the record round-trip test holds it to that). */
export interface RunJson {
  version: number;
  id: string;
  /** ISO time. */
  createdAt: string;
  source?: RunResult['source'];
  prompt: string;
  objects: ObjectMark[];
  /** The values stay a flat object; where each came from sits beside them. */
  settings: Omit<RunSettings, 'sources'>;
  settingSources?: RunSettings['sources'];
  model: RunResult['model'];
  provider: RunResult['provider'];
  tokens: RunResult['tokens'];
  maps: {
    /**
     * The maps file: word_maps float32 [words, height, width]; overlap_map float32 [height, width];
     * timeline float32 [steps, words, timelineHeight, timelineWidth] (raw attention probabilities).
     */
    file: string;
    height: number;
    width: number;
    recipe: string;
    /** The words' raw attention per layer (float16), for filters that are views of this run. */
    attention?: string;
    filteredFrom?: string;
    timeline?: { timesteps: number[]; height: number; width: number };
  };
  words: Omit<WordMap, 'map'>[];
  layers: RunLayer[];
  /** The scores without their arrays (those are in the maps file). */
  scores?: Omit<RunScores, 'overlapMap' | 'masks' | 'objectMaps'>;
  failure?: RunFailure;
  detection?: RunDetection;
  files: RunFiles;
  timings: GenerateTimings;
}

// ---- finetune.json (runFinetune) and compare.json (comparePrompt) ----

export const finetuneRecordFields = fields({
  model: fields({ id: text(), hash: text(400) }),
  options: fields({ lr: number({ min: 0 }), steps: optional(count) }),
  keys: relativePath,
  trainedPrompts: list(text()),
  trainedLayers: optional(list(text())),
  stopped: optional(text()),
  trainMs: optional(number({ min: 0 })),
  curve: list(fields({ loss: number() })),
  comparisons: list(
    fields({
      group: text(40),
      prompt: text(),
      seed: count,
      before: fields({ folder: relativePath }),
      after: fields({ folder: relativePath }),
    }),
  ),
});
export type FinetuneRecord = Checked<typeof finetuneRecordFields>;

export const compareRecordFields = fields({
  prompt: text(),
  keySet: optional(text(4096)),
  before: relativePath,
  after: relativePath,
});
export type CompareRecord = Checked<typeof compareRecordFields>;

// ---- key-set metadata (safetensors __metadata__, all strings) ----

export const keySetMetadataFields = fields({
  format: text(100),
  base_model_id: text(),
  base_model_hash: text(400),
  prompts: optional(jsonText(list(text()))),
  trained_layers: optional(jsonText(list(text()))),
});
export type KeySetMetadata = Checked<typeof keySetMetadataFields>;
