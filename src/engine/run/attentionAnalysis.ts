// Turns the pipeline's per-step attention into what a run shows: DAAM word maps for display,
// Separate-and-Enhance scores on the 16x16-equivalent layers at one step, and a step timeline.
import {
  activation as activationScore,
  AttentionAccumulator,
  AttentionTimeline,
  keepTokens,
  overlap as overlapScore,
  meanHeads,
  mergeWords,
  pickWords,
  sepEnTotal,
  resolveSelection,
  type LayerInfo,
  type SelectionOptions,
  type WordSpan,
} from '../attention';
import { maskOverlaps, upsampleMasks } from '../../shared/masks';
import { defaultScoreRecipes, evaluateFailure, recipeSpecs, type FailureScores, type ModelScoreRecipes } from '../attention/failureScore';
import { RecipeSeries } from '../attention/recipeSeries';
import type { ModelScores } from '../model/modelDefaults';
import { resizeMapBilinear } from '../image/raster';
import { objectLabels } from '../promptFile/marks';
import type { AttentionCapture } from '../pipeline/pipeline';
import type { TokenizedText } from '../tokenizer/clipTokenizer';
import { aggregateStored, AttentionStoreBuilder, canAggregate, type StoredAttention } from '../record/attentionStore';
import type { ObjectMark, RunLayer, RunScores, TimelineData, WordMap } from '../record/runResult';

export interface AnalysisInput {
  prompt: string;
  objects: ObjectMark[];
  tokenized: TokenizedText;
  /** Number of sampling steps of the run. */
  steps: number;
  /** The UNet sample grid: display maps are aggregated to it (DAAM's latent grid). */
  sampleH: number;
  sampleW: number;
  /** Which layers, grids, heads and steps the display maps aggregate; default all (DAAM drops the coarsest grid). */
  selection?: SelectionOptions;
  /** Keep the raw attention (`AnalysisOutput.attention`) so the run's maps can be filtered later without sampling. */
  storeAttention?: boolean;
  /** The failure and risk recipes measured on the model (its prompt_lens.json); default: the paper's layers, unmeasured. */
  scoreRecipes?: ModelScores;
  /** Where `scoreRecipes` came from, for messages. */
  scoreRecipesFile?: string;
}

/** A score recipe of the model's prompt_lens.json does not fit its layers. */
export class ScoreRecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScoreRecipeError';
  }
}

/** The user's layer/head/step selection does not fit the model or the run. */
export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

export interface AnalysisOutput {
  words: WordMap[];
  layers: RunLayer[];
  mapHeight: number;
  mapWidth: number;
  mapRecipe: string;
  /** The layers, heads and steps the display maps keep when a selection leaves some out ("8x8 layers, heads 0, steps 1–5"). */
  mapFilter?: string;
  scores?: RunScores;
  failure?: FailureScores;
  timeline?: TimelineData;
  attention?: StoredAttention;
}

/** The grid Separate-and-Enhance uses on SD 1.x at 512 px (latent 64 / 4); the nearest one elsewhere. */
const SCORE_GRID = 16;
const START = '<start>';
const END = '<end>';

export class AttentionAnalysis {
  private display?: AttentionAccumulator;
  private scoring?: AttentionAccumulator;
  private timeline?: AttentionTimeline;
  private recipes?: ModelScoreRecipes;
  private recipeSeries?: RecipeSeries;
  private scoreStep = 0;
  private scoreTimestep = 0;
  private scoreGrid = '';
  private catalogue: LayerInfo[] = [];
  private readonly spans: WordSpan[];
  private readonly objectWords: string[];
  /** The raw attention of the words' tokens, per layer and head (per step while small): filters aggregate it again. */
  private store?: AttentionStoreBuilder;
  /**
   * The token positions any word or special token uses, ascending. Captures are narrowed to them once per layer
   * and step, so every aggregation works on a few positions instead of the padded length (77 on SD) and gives the
   * same maps; `compactSpans` and `compactSpecials` index the narrowed captures.
   */
  private kept: number[] = [];
  private compactSpans: WordSpan[] = [];
  private compactSpecials: { label: string; index: number }[] = [];

  constructor(private readonly input: AnalysisInput) {
    const { spans, objectWords } = wordSpans(input);
    this.spans = spans;
    this.objectWords = objectWords;
  }

  /** The pipeline's `onAttention` hook. */
  readonly onAttention = (captures: AttentionCapture[]): void => {
    if (!this.display) this.start(captures);
    const narrowed = captures.map((capture) => {
      const narrow = keepTokens(capture, this.kept);
      this.store?.addKept(narrow, capture.tokens);
      this.display?.add(narrow);
      this.timeline?.add(narrow);
      if (capture.step === this.scoreStep) {
        this.scoreTimestep = capture.timestep;
        this.scoring?.add(narrow);
      }
      return narrow;
    });
    this.recipeSeries?.addStep(narrowed);
  };

  private start(captures: AttentionCapture[]): void {
    const catalogue: LayerInfo[] = captures.map((c) => ({ name: c.layer, gridH: c.gridH, gridW: c.gridW, heads: c.heads }));
    this.catalogue = catalogue;
    const { steps, sampleH, sampleW } = this.input;
    this.kept = [...new Set([...this.spans.flatMap((s) => s.tokenIndices), ...this.specials().map((s) => s.index)])].sort((a, b) => a - b);
    const at = new Map(this.kept.map((position, i) => [position, i]));
    this.compactSpans = this.spans.map((s) => ({ word: s.word, tokenIndices: s.tokenIndices.map((t) => at.get(t) as number) }));
    this.compactSpecials = this.specials().map((s) => ({ label: s.label, index: at.get(s.index) as number }));
    const tokens = this.kept.length;
    this.display = new AttentionAccumulator({
      outH: sampleH,
      outW: sampleW,
      tokens,
      selection: userSelection(catalogue, this.input.selection, steps),
      recipe: 'daam',
    });
    // Middle of the schedule: maps are object-shaped there, neither pure noise nor saturated.
    this.scoreStep = Math.floor(steps / 2);
    const side = nearestGrid(catalogue, SCORE_GRID);
    this.scoreGrid = `${side}x${side}`;
    this.scoring = new AttentionAccumulator({
      tokens,
      selection: resolveSelection(catalogue, { steps: this.scoreStep }, steps),
      recipe: { kind: 'separate-enhance', grid: side, keepHeads: true },
    });
    this.timeline = new AttentionTimeline({ tokens, selection: resolveSelection(catalogue, {}, steps) });
    this.store = new AttentionStoreBuilder(this.kept, steps);
    if (this.objectWords.length > 0) this.startRecipes(catalogue);
  }

  /** The failure and risk recipes' per-step values, on the objects' own token positions. */
  private startRecipes(catalogue: LayerInfo[]): void {
    const given = this.input.scoreRecipes;
    const recipes: ModelScoreRecipes = given ? { ...given, source: 'model' } : defaultScoreRecipes(catalogue);
    const objectTokens = this.objectWords.map((word) => tokenIndicesOf(word, this.compactSpans, []));
    for (const role of ['failure', 'risk'] as const) {
      try {
        new RecipeSeries(catalogue, objectTokens, [recipes[role]]);
      } catch (error) {
        const where = this.input.scoreRecipesFile ? `${this.input.scoreRecipesFile}: ` : '';
        throw new ScoreRecipeError(`${where}"scores.${role}" does not fit this model: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.recipes = recipes;
    this.recipeSeries = new RecipeSeries(catalogue, objectTokens, recipeSpecs(recipes));
  }

  finish(): AnalysisOutput {
    if (!this.display || !this.scoring || !this.timeline) throw new Error('No attention was captured');
    const display = this.displayMaps(this.display, this.input.selection);
    return {
      ...display,
      layers: this.catalogue.map(({ name, gridH, gridW, heads }) => ({ name, gridH, gridW, heads })),
      scores: this.scores(display.mapHeight, display.mapWidth),
      ...(this.recipes && this.recipeSeries ? { failure: evaluateFailure(this.recipeSeries, this.recipes, this.objectWords, this.input.steps) } : {}),
      timeline: this.timelineData(),
      ...(this.input.storeAttention && this.store ? { attention: this.store.result() } : {}),
    };
  }

  /** Whether `selection` can be aggregated from the kept attention (any layers and heads; steps while per-step maps fit). */
  canRefilter(selection: SelectionOptions): boolean {
    return this.store !== undefined && canAggregate(this.store.result(), selection);
  }

  /** The display maps for other layers, heads or steps from the kept attention: what sampling again with `selection` would give. */
  refilter(selection: SelectionOptions): Pick<AnalysisOutput, 'words' | 'mapHeight' | 'mapWidth' | 'mapRecipe'> {
    const stored = this.store?.result();
    if (!stored || !canAggregate(stored, selection)) throw new Error('a step range needs the per-step maps, which were too large to keep: sample again');
    const { words, mapHeight, mapWidth } = this.displayMaps(this.display as AttentionAccumulator, this.input.selection);
    let aggregated: ReturnType<typeof aggregateStored>;
    try {
      aggregated = aggregateStored(stored, selection, words, mapHeight, mapWidth);
    } catch (error) {
      throw new SelectionError(error instanceof Error ? error.message : String(error));
    }
    return {
      words: words.map((w, i) => ({ ...w, map: aggregated.maps[i] })),
      mapHeight,
      mapWidth,
      mapRecipe: mapRecipe(selection, aggregated.grids, this.input.steps, this.input.sampleH, this.input.sampleW),
    };
  }

  /** Word maps merged from token maps, with the specials, and the recipe they were made by. */
  private displayMaps(accumulator: AttentionAccumulator, selection: SelectionOptions | undefined): Pick<AnalysisOutput, 'words' | 'mapHeight' | 'mapWidth' | 'mapRecipe' | 'mapFilter'> {
    const { sampleH, sampleW } = this.input;
    const specials = this.specials();
    const wordMaps = mergeWords(accumulator.result(), this.compactSpans, { specials: this.compactSpecials });
    const hw = wordMaps.height * wordMaps.width;
    const words: WordMap[] = wordMaps.words.map((word, i) => ({
      word,
      tokenIndices: tokenIndicesOf(word, this.spans, specials),
      isObject: this.objectWords.includes(word),
      isSpecial: word === START || word === END,
      map: wordMaps.data.slice(i * hw, (i + 1) * hw),
    }));
    const grids = [...new Set(accumulator.layers.map((l) => `${l.gridH}x${l.gridW}`))];
    return {
      words,
      mapHeight: wordMaps.height,
      mapWidth: wordMaps.width,
      mapRecipe: mapRecipe(selection, grids, this.input.steps, sampleH, sampleW),
      ...(leavesOut(selection) ? { mapFilter: describeSelection(selection, grids, this.input.steps) } : {}),
    };
  }

  private scores(outH: number, outW: number): RunScores | undefined {
    if (this.objectWords.length === 0 || !this.scoring) return undefined;
    const maps = mergeWords(this.scoring.result(), this.compactSpans);
    const stack = pickWords(maps, this.objectWords);
    const activation = activationScore(stack);
    // prod/sum is 1 everywhere for a single object: overlap only means something for two or more.
    const overlap = this.objectWords.length >= 2 ? overlapScore(stack) : undefined;
    const overlapValue = overlap?.value ?? 0;
    // The displayed overlap map is the head mean of prod/sum, brought to the display grid.
    const size = stack.height * stack.width;
    const small = overlap ? meanPlanes(overlap.map, stack.heads, size) : new Float32Array(size);
    const objectMaps = meanHeads(stack);
    const masks = maskOverlaps(objectMaps);
    const displayMasks = upsampleMasks(masks.masks, this.objectWords.length, stack.height, stack.width, outH, outW);
    return {
      overlap: overlapValue,
      overlapMap: resizeMapBilinear(small, stack.height, stack.width, outH, outW),
      activations: this.objectWords.map((word, i) => ({ word, value: activation.peaks[i] })),
      weakest: this.objectWords[activation.weakest],
      enhanceLoss: activation.value,
      totalLoss: sepEnTotal(overlapValue, activation.value),
      masks: displayMasks,
      objectMaps: { height: objectMaps.height, width: objectMaps.width, data: objectMaps.data },
      pairs: masks.pairs.map((p) => ({
        a: this.objectWords[p.a],
        b: this.objectWords[p.b],
        iou: p.iou,
        ioaA: p.ioaA,
        ioaB: p.ioaB,
      })),
      basis: `Separate-and-Enhance: ${this.scoreGrid} layers, per head, step ${this.scoreStep + 1} of ${this.input.steps} (t=${this.scoreTimestep}); masks at 0.4 of each map's max`,
    };
  }

  /** The start and end tokens, shown after the words (the end token is the first padding position). */
  private specials(): { label: string; index: number }[] {
    return [
      { label: START, index: 0 },
      { label: END, index: this.input.tokenized.length - 1 },
    ];
  }

  private timelineData(): TimelineData | undefined {
    const frames = this.timeline?.frames() ?? [];
    if (frames.length === 0) return undefined;
    const { height, width } = frames[0].maps;
    const perFrame = frames.map((f) => mergeWords(f.maps, this.compactSpans, { specials: this.compactSpecials }));
    const frameSize = perFrame[0].data.length;
    const data = new Float32Array(frames.length * frameSize);
    perFrame.forEach((f, i) => data.set(f.data, i * frameSize));
    return { timesteps: frames.map((f) => f.timestep), height, width, data };
  }
}

function userSelection(catalogue: LayerInfo[], options: SelectionOptions | undefined, steps: number): ReturnType<typeof resolveSelection> {
  try {
    return resolveSelection(catalogue, options ?? {}, steps);
  } catch (error) {
    throw new SelectionError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Prompt words (sub-word tokens grouped; a word's map covers all its occurrences, as DAAM's does) and marked
 * objects, as word spans over token positions. Each mark is its own object: marks sharing a word get numbered
 * labels ("circle #1", "circle #2") with their own positions, as the finetune treats them.
 */
function wordSpans(input: AnalysisInput): { spans: WordSpan[]; objectWords: string[] } {
  const { tokenized, prompt, objects } = input;
  const byWord = new Map<number, { start: number; end: number; tokens: number[] }>();
  tokenized.tokens.forEach((token, position) => {
    if (token.wordIndex < 0) return;
    const w = byWord.get(token.wordIndex) ?? { start: token.start, end: token.end, tokens: [] };
    w.start = Math.min(w.start, token.start);
    w.end = Math.max(w.end, token.end);
    w.tokens.push(position);
    byWord.set(token.wordIndex, w);
  });
  const spans: WordSpan[] = [...byWord.values()].map((w) => ({ word: prompt.slice(w.start, w.end).toLowerCase(), tokenIndices: w.tokens }));
  const objectWords: string[] = [];
  const labels = objectLabels(objects);
  objects.forEach((object, i) => {
    const label = labels[i];
    const tokenIndices = tokenized.tokens.flatMap((t, j) => (t.wordIndex >= 0 && t.start < object.end && t.end > object.start ? [j] : []));
    if (tokenIndices.length === 0) return; // truncated away; the caller reports it
    // A multi-word mark ([traffic light]) or a numbered one becomes its own entry; a single word is already a span.
    if (!spans.some((s) => s.word === label)) spans.push({ word: label, tokenIndices });
    objectWords.push(label);
  });
  return { spans, objectWords };
}

function tokenIndicesOf(word: string, spans: WordSpan[], specials: { label: string; index: number }[]): number[] {
  const special = specials.find((s) => s.label === word);
  if (special) return [special.index];
  return [...new Set(spans.filter((s) => s.word === word).flatMap((s) => s.tokenIndices))].sort((a, b) => a - b);
}

/** "DAAM: 8x8 layers, heads 1, steps 1–5, bicubic to 32x32": how display maps were made. */
export function mapRecipe(options: SelectionOptions | undefined, grids: string[], steps: number, sampleH: number, sampleW: number): string {
  return `DAAM: ${describeSelection(options, grids, steps)}, bicubic to ${sampleH}x${sampleW}`;
}

/** Whether a selection leaves out any layer, head or step: the display maps are then a filtered view of the run. */
function leavesOut(options: SelectionOptions | undefined): boolean {
  if (!options) return false;
  const { layers, grids, heads, steps } = options;
  return (layers?.length ?? 0) > 0 || (grids?.length ?? 0) > 0 || (heads !== undefined && heads !== 'all') || (steps !== undefined && steps !== 'all');
}

function describeSelection(options: SelectionOptions | undefined, grids: string[], steps: number): string {
  const layers = options?.layers ? `layers ${options.layers.join(', ')} (${grids.join(', ')})` : `${grids.join(', ')} layers`;
  const heads = !options?.heads || options.heads === 'all' ? 'all heads' : `heads ${options.heads.join(', ')}`;
  const s = options?.steps;
  const range = s === undefined || s === 'all' ? `all ${steps} steps` : typeof s === 'number' ? `step ${s + 1}` : `steps ${(s.from ?? 0) + 1}–${(s.to ?? steps - 1) + 1}`;
  return `${layers}, ${heads}, ${range}`;
}

function nearestGrid(catalogue: LayerInfo[], side: number): number {
  const sides = [...new Set(catalogue.map((l) => l.gridW))];
  return sides.reduce((best, s) => (Math.abs(s - side) < Math.abs(best - side) ? s : best));
}

function meanPlanes(data: Float32Array, planes: number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let p = 0; p < planes; p++) for (let i = 0; i < size; i++) out[i] += data[p * size + i] / planes;
  return out;
}
