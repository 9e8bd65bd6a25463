// Resolves a .prompt file's `model:` to a folder and loads its tokenizer for editor checks, once per
// folder (reloaded when the folder's files change). No ONNX session is created here. vscode-free.
import { readModelLimits, type ModelLimits } from './modelLimits';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { MODEL_DEFAULTS_FILE, readModelDefaults } from '../engine/model/modelDefaults';
import type { ModelDefaults } from '../engine/promptFile';
import { builtinModelNames, openModelFolder } from '../engine/model/modelFolder';
import { resolveModel } from '../engine/run/resolveModel';
import { ClipTokenizer } from '../engine/tokenizer';
import { CLOSED_VOCABULARY_LIMIT, readVocabularyWords } from './vocabulary';

export interface LoadedModel {
  root: string;
  /** The folder name, as run records and messages call the model. */
  id: string;
  builtin: boolean;
  tokenizer: ClipTokenizer;
  /** The vocabulary's whole words, sorted, when it is closed (fewer than 5000 tokens). */
  closedVocabulary?: string[];
  /** Steps and size the model can take, checked while typing. */
  limits: ModelLimits;
  /** The run settings its prompt_lens.json recommends (what a run takes where the file is silent). */
  recommended: ModelDefaults;
}

export type ModelLookup =
  | { kind: 'ok'; model: LoadedModel }
  /** The model cannot be used: the message says why, for a diagnostic on `model:`. */
  | { kind: 'error'; message: string }
  /** A workspace model in an untrusted workspace: not loaded. */
  | { kind: 'untrusted'; message: string };

/** Files whose change means the model must be looked at again. */
const WATCHED = [
  '.',
  'model_index.json',
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  MODEL_DEFAULTS_FILE,
];

export class ModelService {
  private readonly cache = new Map<string, { stamp: string; result: Promise<ModelLookup> }>();

  constructor(readonly builtinModelsDir: string) {}

  /** Names of the embedded models. */
  builtinNames(): string[] {
    return builtinModelNames(this.builtinModelsDir);
  }

  /**
   * The model `model` (a `model:` value) names for the .prompt file `promptFile`, resolved as a run resolves it
   * (src/engine/run/resolveModel.ts: embedded names, then the user's `named` models, then paths). When the
   * workspace is not trusted only embedded models are loaded.
   */
  async lookup(model: string, promptFile: string, trusted: boolean, named: Record<string, string> = {}): Promise<ModelLookup> {
    const names = this.builtinNames();
    let root: string;
    try {
      root = resolveModel(model, promptFile, { builtinModelsDir: this.builtinModelsDir, named });
    } catch (error) {
      // The diagnostic sits on the value of `model:` already.
      return { kind: 'error', message: messageOf(error).replace(/^model: /, '') };
    }
    const builtin = names.some((name) => path.resolve(this.builtinModelsDir, name) === path.resolve(root));
    if (!builtin && !trusted) {
      return {
        kind: 'untrusted',
        message: `this workspace is not trusted, so Prompt Lens does not load the model at "${model}" for checks (only embedded models: ${names.join(', ') || 'none'}); token-limit and vocabulary checks are off`,
      };
    }
    return this.load(path.resolve(root), builtin);
  }

  /** Drops every cached model (e.g. after the builtin folder changed). */
  clear(): void {
    this.cache.clear();
  }

  private load(root: string, builtin: boolean): Promise<ModelLookup> {
    const stamp = WATCHED.map((rel) => {
      try {
        const s = statSync(path.join(root, rel));
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    }).join('|');
    const cached = this.cache.get(root);
    if (cached && cached.stamp === stamp) return cached.result;
    const result = loadModel(root, builtin);
    this.cache.set(root, { stamp, result });
    return result;
  }
}

async function loadModel(root: string, builtin: boolean): Promise<ModelLookup> {
  let folder;
  let recommended: ModelDefaults;
  try {
    folder = await openModelFolder(root);
    // A run would stop on a broken recommended-settings file: say so on `model:` as soon as it is typed.
    recommended = await readModelDefaults(root);
  } catch (error) {
    return { kind: 'error', message: messageOf(error) };
  }
  try {
    const tokenizer = await ClipTokenizer.fromFolder(folder.tokenizerDir, folder.textSequenceLength);
    const closedVocabulary = tokenizer.vocabSize < CLOSED_VOCABULARY_LIMIT ? await readVocabularyWords(folder.tokenizerDir) : undefined;
    const limits = await readModelLimits(folder);
    return { kind: 'ok', model: { root, id: folder.id, builtin, tokenizer, limits, recommended, ...(closedVocabulary ? { closedVocabulary } : {}) } };
  } catch (error) {
    return { kind: 'error', message: `cannot load the tokenizer: ${messageOf(error)}` };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
