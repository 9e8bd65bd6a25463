// Everything the editor underlines in a .prompt file, as plain objects (vscode-free, unit-tested):
// the parser's own diagnostics, marks that do not line up with words, prompts over the model's
// token limit, words outside a closed vocabulary (with spelling suggestions), model problems, and
// guidance the engine takes but would not apply as written.
import { HIGH_GUIDANCE, usesGuidance } from '../engine/promptFile/guidance';
import { defaultSettings, resolveSettings, type ParsedPromptFile, type PromptLine, type SourceRange } from '../engine/promptFile';
import type { LoadedModel, ModelLookup } from './modelService';
import { columnRange, frontMatterLines, promptColumns } from './promptText';
import { editDistance, matchCase, vocabularySuggestions } from './vocabulary';

export type LangSeverity = 'error' | 'warning' | 'information';

export type LangDiagnosticCode = 'parse' | 'mark' | 'token-limit' | 'out-of-vocabulary' | 'model' | 'untrusted' | 'guidance';

export interface LangDiagnostic extends SourceRange {
  severity: LangSeverity;
  message: string;
  code: LangDiagnosticCode;
  /** For out-of-vocabulary words: replacements, nearest first (already in the word's case). */
  suggestions?: string[];
}

export interface ModelRequest {
  /** The `model:` value, or the default when the file does not set one. */
  model: string;
  /** Where `model:`'s value is written; absent when the default applies. */
  range?: SourceRange;
}

/**
 * Which model the checks should load, or undefined when the model itself is in doubt: an error on the
 * front matter's `model:` line, or a `model:` line the parser could not read (checking prompts against
 * the wrong model would only add noise). Errors in other settings leave the prompt checks on.
 */
export function modelRequest(parsed: ParsedPromptFile, lines: readonly string[]): ModelRequest | undefined {
  const front = frontMatterLines(lines);
  if (front) {
    // `model:` lines, and misspelt ones ("modle: …"): those name a model too, so which one is in doubt.
    const modelLines = lines.slice(front.start, front.end + 1).flatMap((text, i) => {
      const key = /^\s*([\w-]+)\s*:/.exec(text)?.[1].toLowerCase();
      return key !== undefined && editDistance(key, 'model') <= 2 ? [front.start + i] : [];
    });
    const errorOnModel = parsed.diagnostics.some((d) => d.severity === 'error' && modelLines.includes(d.line));
    // A front matter that is not a mapping at all hides every setting, the model's too.
    const unreadable = parsed.diagnostics.some((d) => d.severity === 'error' && d.line <= front.end) && Object.keys(parsed.settings).length === 0 && modelLines.length > 0;
    if (errorOnModel || unreadable || (modelLines.length > 0 && !parsed.settings.model)) return undefined;
  }
  const model = parsed.settings.model;
  return model ? { model: model.value, range: model.valueRange } : { model: defaultSettings.model };
}

/** The diagnostics of a parsed file; `model` is what `modelRequest` asked for and what it resolved to. */
export function computeDiagnostics(
  parsed: ParsedPromptFile,
  lines: readonly string[],
  model?: { request: ModelRequest; lookup: ModelLookup },
): LangDiagnostic[] {
  const out: LangDiagnostic[] = parsed.diagnostics.map((d) => ({ ...d, code: 'parse' as const }));
  for (const prompt of parsed.prompts) out.push(...markDiagnostics(prompt));
  if (model) {
    const { request, lookup } = model;
    const at: SourceRange = request.range ?? { line: 0, column: 0, endLine: 0, endColumn: 0 };
    if (lookup.kind === 'error') {
      const prefix = request.range ? 'model: ' : `the default model "${request.model}": `;
      out.push({ ...at, severity: 'error', code: 'model', message: prefix + lookup.message });
    } else if (lookup.kind === 'untrusted') {
      out.push({ ...at, severity: 'information', code: 'untrusted', message: lookup.message });
    } else {
      for (const prompt of parsed.prompts) {
        const text: ModelText = { what: 'prompt', line: prompt.line, text: prompt.text, columns: promptColumns(prompt.raw), objects: prompt.objects };
        out.push(...modelDiagnostics(text, lookup.model));
      }
      const negative = negativeText(parsed, lines);
      if (negative) out.push(...modelDiagnostics(negative, lookup.model));
      out.push(...limitDiagnostics(parsed, lookup.model));
    }
  }
  out.push(...guidanceDiagnostics(parsed, model?.lookup.kind === 'ok' ? model.lookup.model : undefined));
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Vocabularies up to this size are listed whole in an out-of-vocabulary message. */
const VOCABULARY_LISTED = 60;

/** Settings the model cannot take, underlined where they are written (a run would stop on them). */
function limitDiagnostics(parsed: ParsedPromptFile, model: LoadedModel): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const { steps, size } = parsed.settings;
  const { maxSteps, fixedSize } = model.limits;
  if (steps && maxSteps !== undefined && steps.value > maxSteps) {
    out.push({
      ...steps.valueRange,
      severity: 'error',
      code: 'model',
      message: `steps: ${model.id}'s scheduler takes at most ${maxSteps} steps (more would ask for a timestep outside its training range)`,
    });
  }
  if (size && fixedSize && (size.value.width !== fixedSize.width || size.value.height !== fixedSize.height)) {
    out.push({
      ...size.valueRange,
      severity: 'error',
      code: 'model',
      message: `size: ${model.id} only makes ${fixedSize.width}x${fixedSize.height} images, not ${size.value.width}x${size.value.height}`,
    });
  }
  return out;
}

/**
 * Guidance the engine takes (the parser checks its range) but would not apply as written: at 1 and below the
 * pipeline skips classifier-free guidance, so a smaller scale samples as 1 and a negative prompt goes unread;
 * far above the usual range images burn out. `model` (when loaded) gives the value a file without `guidance` runs at.
 */
function guidanceDiagnostics(parsed: ParsedPromptFile, model: LoadedModel | undefined): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const { guidance, negative } = parsed.settings;
  const recommended = model?.recommended.guidance;
  const advice = model && recommended !== undefined ? `; ${model.id} recommends ${recommended}` : '';
  if (guidance && guidance.value < 1) {
    out.push({
      ...guidance.valueRange,
      severity: 'warning',
      code: 'guidance',
      message: `guidance: ${guidance.value} samples exactly as 1: at 1 and below the engine skips classifier-free guidance and follows the prompt alone${advice}`,
    });
  }
  if (guidance && guidance.value > HIGH_GUIDANCE) {
    out.push({
      ...guidance.valueRange,
      severity: 'warning',
      code: 'guidance',
      message: `guidance: ${guidance.value} is far above the usual range (Stable Diffusion is sampled at about 5 to 15): images burn out${advice}`,
    });
  }
  // The value the run takes: the file's, else (once the model is known) its recommendation, else the engine's.
  const effective = guidance ? guidance.value : model ? resolveSettings(parsed.settings, model.recommended).values.guidance : undefined;
  if (negative && negative.value.trim() !== '' && effective !== undefined && !usesGuidance(effective)) {
    // Unwritten, only a model's recommendation can be 1 or less (the engine's default is 7.5).
    const from = guidance ? '' : ` (${model?.id}'s recommended value)`;
    out.push({
      ...negative.valueRange,
      severity: 'warning',
      code: 'guidance',
      message: `negative: unused at guidance ${effective}${from}: the engine reads the negative prompt only when guidance is above 1`,
    });
  }
  return out;
}

/** CLIP's pre-tokenizer split (its words), case-insensitive like CLIP after lower-casing. */
const CLIP_WORD = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

interface Span {
  start: number;
  end: number;
}

function clipWords(text: string): Span[] {
  return [...text.matchAll(CLIP_WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/** Marks must cover whole words: `circ[le]` would score a piece of "circle" as its own object. */
function markDiagnostics(prompt: PromptLine): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const words = clipWords(prompt.text);
  for (const o of prompt.objects) {
    const at = { line: o.line, column: o.column, endLine: o.line, endColumn: o.endColumn };
    const covered = words.filter((w) => w.start < o.end && w.end > o.start);
    if (covered.length === 0) {
      out.push({ ...at, severity: 'error', code: 'mark', message: `[${o.word}] matches no word of the prompt` });
      continue;
    }
    const first = covered[0];
    const last = covered[covered.length - 1];
    if (first.start !== o.start || last.end !== o.end) {
      const whole = prompt.text.slice(first.start, last.end);
      out.push({
        ...at,
        severity: 'warning',
        code: 'mark',
        message: `[${o.word}] covers only part of "${whole}": the model reads whole words, mark [${whole}] instead`,
      });
    }
  }
  return out;
}

/** Text the model reads, and where each of its characters is in the file. */
interface ModelText {
  what: 'prompt' | 'negative prompt';
  line: number;
  text: string;
  columns: number[];
  objects: PromptLine['objects'];
}

/** The negative prompt as written on one line (plain or quoted), so its words can be located; else undefined. */
function negativeText(parsed: ParsedPromptFile, lines: readonly string[]): ModelText | undefined {
  const negative = parsed.settings.negative;
  if (!negative || negative.value.trim() === '') return undefined;
  const r = negative.valueRange;
  if (r.line !== r.endLine) return undefined;
  const written = (lines[r.line] ?? '').slice(r.column, r.endColumn);
  const at = written.indexOf(negative.value);
  if (at < 0) return undefined; // escapes in a quoted string: positions would be guesses
  const start = r.column + at;
  return { what: 'negative prompt', line: r.line, text: negative.value, columns: Array.from(negative.value, (_, i) => start + i), objects: [] };
}

function modelDiagnostics(prompt: ModelText, model: LoadedModel): LangDiagnostic[] {
  const out: LangDiagnostic[] = [];
  const { tokenizer } = model;
  const { columns } = prompt;
  const rangeOf = (start: number, end: number): SourceRange => ({ line: prompt.line, endLine: prompt.line, ...columnRange(columns, start, end) });

  const tokenized = tokenizer.encode(prompt.text);
  if (tokenized.truncated) {
    const kept = tokenized.tokens.filter((t) => t.wordIndex >= 0);
    const cut = kept.length > 0 ? kept[kept.length - 1].end : 0;
    const rest = prompt.text.slice(cut);
    const from = cut + (rest.length - rest.trimStart().length);
    const total = kept.length + 2 + countContentTokens(model, prompt.text.slice(from));
    const lost = prompt.text.slice(from);
    out.push({
      ...rangeOf(from, prompt.text.length),
      severity: 'warning',
      code: 'token-limit',
      message: `this ${prompt.what} is ${total} tokens, over the ${tokenizer.maxLength}-token limit of ${model.id} (start and end included): the model never sees "${lost.length > 40 ? lost.slice(0, 39) + '…' : lost}"`,
    });
    for (const o of prompt.objects) {
      if (!kept.some((t) => t.start < o.end && t.end > o.start)) {
        out.push({
          line: o.line,
          endLine: o.line,
          column: o.column,
          endColumn: o.endColumn,
          severity: 'error',
          code: 'token-limit',
          message: `[${o.word}] falls beyond the model's ${tokenizer.maxLength}-token limit and would be cut off`,
        });
      }
    }
  }

  const vocabulary = model.closedVocabulary;
  if (vocabulary) {
    for (const m of prompt.text.matchAll(/\p{L}+/gu)) {
      const word = m[0];
      if (tokenizer.has(word)) continue;
      const found = vocabularySuggestions(word, vocabulary);
      const suggestions = found.words.map((s) => matchCase(word, s));
      const hint = suggestions.length === 0 ? '' : found.by === 'spelling' ? `; did you mean "${suggestions[0]}"?` : `; its ${found.by}s are ${suggestions.join(', ')}`;
      // A small vocabulary is listed whole: the user can see what the model knows.
      const known = vocabulary.length <= VOCABULARY_LISTED ? `, which knows only these ${vocabulary.length} words: ${vocabulary.join(', ')}` : `, which knows only ${vocabulary.length} words`;
      out.push({
        ...rangeOf(m.index, m.index + word.length),
        severity: 'warning',
        code: 'out-of-vocabulary',
        message: `"${word}" is not in the vocabulary of ${model.id}${hint}${known}`,
        suggestions,
      });
    }
  }
  return out;
}

/** Content tokens of `text` without a length limit (encoding it piece by piece). */
function countContentTokens(model: LoadedModel, text: string): number {
  let count = 0;
  let rest = text;
  for (let guard = 0; rest.trim() !== '' && guard < 10_000; guard++) {
    const t = model.tokenizer.encode(rest);
    const content = t.tokens.filter((x) => x.wordIndex >= 0);
    count += content.length;
    if (!t.truncated || content.length === 0) break;
    rest = rest.slice(content[content.length - 1].end);
  }
  return count;
}
