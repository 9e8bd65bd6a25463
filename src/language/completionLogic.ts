// Completion items for .prompt files as plain objects (vscode-free, unit-tested): front-matter keys
// and values, and the model's words on prompt lines when its vocabulary is closed.
import { defaultSettings, type SettingKey } from '../engine/promptFile';
import { frontMatterLines } from './promptText';

export interface LangCompletion {
  label: string;
  kind: 'setting' | 'value' | 'word';
  insertText: string;
  detail?: string;
  documentation?: string;
  sortText?: string;
  /** Open the value list right after inserting (a key: its values follow at once, and the space after ':' stays). */
  suggestValues?: boolean;
}

export interface CompletionResult {
  items: LangCompletion[];
  /** Column where the text the items replace starts (it ends at the cursor). */
  replaceFrom: number;
}

export interface CompletionContextData {
  /** Embedded model names. */
  modelNames: readonly string[];
  /** The model's words when its vocabulary is closed. */
  vocabulary?: readonly string[];
}

export const SETTING_DOCS: Readonly<Record<SettingKey, { detail: string; documentation: string }>> = {
  model: {
    detail: `model name or folder (default ${defaultSettings.model})`,
    documentation: 'An embedded model name (e.g. `tiny-shapes`) or a diffusers/Optimum ONNX export folder, relative to this file (e.g. `./models/sd15-onnx`).',
  },
  seed: {
    detail: `integer or list (default ${defaultSettings.seed[0]})`,
    documentation: 'Seed of the initial noise: an integer from 0 to 4294967295, or a list of them; a single run takes the first.',
  },
  steps: { detail: `1–1000 (default: the model's recommended, else ${defaultSettings.steps})`, documentation: 'Number of sampling steps.' },
  guidance: { detail: `number ≥ 0 (default: the model's recommended, else ${defaultSettings.guidance})`, documentation: 'Classifier-free guidance scale; 1 turns guidance off.' },
  scheduler: { detail: `ddim (default)`, documentation: 'The sampler; `ddim` is the only one so far.' },
  size: {
    detail: 'multiple of 8 or WIDTHxHEIGHT',
    documentation: "Image size, e.g. `512` or `512x768`; without it the model's native size is used.",
  },
  eta: { detail: `0–1 (default ${defaultSettings.eta})`, documentation: "DDIM's eta: 0 is deterministic, 1 adds the most fresh noise per step." },
  negative: { detail: 'string (default none)', documentation: 'Negative prompt: what guidance steers away from.' },
};

const KEY_ORDER = Object.keys(SETTING_DOCS) as SettingKey[];

const VALUE_EXAMPLES: Partial<Record<SettingKey, string[]>> = {
  seed: [String(defaultSettings.seed[0])],
  steps: [String(defaultSettings.steps), '20'],
  guidance: [String(defaultSettings.guidance), '4'],
  eta: ['0'],
  size: ['512', '512x768'],
};

/** Completions at (line, character) of a .prompt document split into lines, or undefined for none. */
export function completionsAt(
  lines: readonly string[],
  line: number,
  character: number,
  context: CompletionContextData,
): CompletionResult | undefined {
  const text = lines[line] ?? '';
  const before = text.slice(0, character);
  const front = frontMatterLines(lines);
  if (line === 0 && front) return undefined;
  if (front && line >= front.start && line < front.end) return frontMatterCompletions(lines, front, line, before, context);
  if (front && line === front.end && front.closed) return undefined; // the closing fence
  if (text.trimStart().startsWith('#') || !context.vocabulary) return undefined;
  const prefix = /\p{L}*$/u.exec(before)?.[0] ?? '';
  return {
    replaceFrom: character - prefix.length,
    items: context.vocabulary.map((word) => ({ label: word, kind: 'word', insertText: word, detail: 'in the model vocabulary' })),
  };
}

function frontMatterCompletions(
  lines: readonly string[],
  front: { start: number; end: number },
  line: number,
  before: string,
  context: CompletionContextData,
): CompletionResult | undefined {
  if (before.includes('#')) return undefined;
  const key = /^(\s*)([\w-]*)$/.exec(before);
  if (key) {
    const present = new Set<string>();
    for (let i = front.start; i < front.end; i++) {
      const m = /^\s*([\w-]+)\s*:/.exec(lines[i]);
      if (m && i !== line) present.add(m[1]);
    }
    return {
      replaceFrom: key[1].length,
      items: KEY_ORDER.filter((k) => !present.has(k)).map((k, i) => ({
        label: k,
        kind: 'setting',
        insertText: `${k}: `,
        suggestValues: true,
        detail: SETTING_DOCS[k].detail,
        documentation: SETTING_DOCS[k].documentation,
        sortText: String(i).padStart(2, '0'),
      })),
    };
  }
  const value = /^\s*([\w-]+)\s*:\s*(\S*)$/.exec(before);
  if (!value) return undefined;
  const name = value[1] as SettingKey;
  const replaceFrom = before.length - value[2].length;
  // Right after the colon, put the space YAML needs between key and value.
  const lead = before.endsWith(':') ? ' ' : '';
  if (name === 'model') {
    return {
      replaceFrom,
      items: context.modelNames.map((m) => ({ label: m, kind: 'value', insertText: lead + m, detail: 'embedded model' })),
    };
  }
  if (name === 'scheduler') {
    return { replaceFrom, items: [{ label: 'ddim', kind: 'value', insertText: lead + 'ddim', detail: 'DDIM (Song et al. 2020)' }] };
  }
  const examples = VALUE_EXAMPLES[name];
  if (!examples) return undefined;
  return { replaceFrom, items: examples.map((v, i) => ({ label: v, kind: 'value', insertText: lead + v, detail: i === 0 ? 'default' : 'example' })) };
}
