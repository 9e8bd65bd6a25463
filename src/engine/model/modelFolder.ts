// Resolves and validates a diffusers/Optimum ONNX model folder before any session is created,
// so a wrong path or a missing part is reported by name instead of as an onnxruntime error.
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface ModelFolder {
  /** Absolute folder path. */
  root: string;
  /** Short id: the folder name (e.g. `tiny-shapes`). */
  id: string;
  /** Fingerprint of the ONNX files and configs; ties run records and finetuned keys to this exact model. */
  hash: string;
  textEncoderPath: string;
  unetPath: string;
  /** Absent for pixel-space models, whose UNet sample is RGB in [-1, 1]. */
  vaeDecoderPath?: string;
  tokenizerDir: string;
  schedulerConfigPath: string;
  /** The UNet's native sample side (diffusers `unet/config.json` sample_size), when the export says. */
  sampleSize?: number;
  /** Token positions the text encoder embeds (`text_encoder/config.json` max_position_embeddings), when the export says. */
  textSequenceLength?: number;
}

export class ModelError extends Error {
  constructor(message: string, readonly modelPath: string) {
    super(message);
    this.name = 'ModelError';
  }
}

/** Names of the embedded models shipped in `builtinModelsDir`. */
export function builtinModelNames(builtinModelsDir: string): string[] {
  try {
    return readdirSync(builtinModelsDir).filter((name) => existsSync(path.join(builtinModelsDir, name, 'model_index.json')));
  } catch {
    return [];
  }
}

const REQUIRED: readonly [keyof ModelFolder, string][] = [
  ['textEncoderPath', 'text_encoder/model.onnx'],
  ['unetPath', 'unet/model.onnx'],
  ['schedulerConfigPath', 'scheduler/scheduler_config.json'],
  ['tokenizerDir', 'tokenizer'],
];

export async function openModelFolder(root: string): Promise<ModelFolder> {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ModelError(`Model folder not found: ${root}`, root);
  }
  if (!existsSync(path.join(root, 'model_index.json'))) {
    throw new ModelError(
      `${root} is not a diffusers ONNX model folder: model_index.json is missing (export one with optimum-cli export onnx)`,
      root,
    );
  }
  await requireModelIndex(root);
  const missing = REQUIRED.map(([, rel]) => rel).filter((rel) => !existsSync(path.join(root, rel)));
  for (const rel of ['tokenizer/vocab.json', 'tokenizer/merges.txt']) {
    if (!missing.includes('tokenizer') && !existsSync(path.join(root, rel))) missing.push(rel);
  }
  if (missing.length > 0) {
    throw new ModelError(`Model folder ${root} is missing: ${missing.join(', ')}`, root);
  }
  const vae = path.join(root, 'vae_decoder/model.onnx');
  const folder: ModelFolder = {
    root,
    id: path.basename(root),
    hash: '',
    textEncoderPath: path.join(root, 'text_encoder/model.onnx'),
    unetPath: path.join(root, 'unet/model.onnx'),
    tokenizerDir: path.join(root, 'tokenizer'),
    schedulerConfigPath: path.join(root, 'scheduler/scheduler_config.json'),
    ...(existsSync(vae) ? { vaeDecoderPath: vae } : {}),
  };
  const sampleSize = await readConfigNumber(path.join(root, 'unet', 'config.json'), 'sample_size');
  if (sampleSize !== undefined) folder.sampleSize = sampleSize;
  const textSequenceLength = await readConfigNumber(path.join(root, 'text_encoder', 'config.json'), 'max_position_embeddings');
  if (textSequenceLength !== undefined) folder.textSequenceLength = textSequenceLength;
  folder.hash = await fingerprint([
    folder.textEncoderPath,
    folder.unetPath,
    ...(folder.vaeDecoderPath ? [folder.vaeDecoderPath] : []),
    folder.schedulerConfigPath,
    path.join(folder.tokenizerDir, 'vocab.json'),
  ]);
  return folder;
}

/** model_index.json marks the folder as a diffusers export; one that is no JSON object is a broken export. */
async function requireModelIndex(root: string): Promise<void> {
  const file = path.join(root, 'model_index.json');
  let index: unknown;
  try {
    index = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new ModelError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}): the export is damaged; export the model again`, root);
  }
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new ModelError(`${file} is not a JSON object, as diffusers writes it: the export is damaged; export the model again`, root);
  }
}

/** A positive integer from a part's diffusers/transformers config.json; optional, like the config itself. */
async function readConfigNumber(configPath: string, key: string): Promise<number | undefined> {
  try {
    const value = (JSON.parse(await fs.readFile(configPath, 'utf8')) as Record<string, unknown>)[key];
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined; // exports without a config use the defaults
  }
}

const EDGE_BYTES = 1 << 20;

/**
 * sha256 over each file's size and its first and last MiB: exact for small models, and cheap for
 * multi-GB exports, where any re-export changes the header (graph) or the tail (weights) anyway.
 */
async function fingerprint(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      hash.update(`${path.basename(path.dirname(file))}/${path.basename(file)}:${size};`);
      const head = Buffer.alloc(Math.min(size, EDGE_BYTES));
      await handle.read(head, 0, head.length, 0);
      hash.update(head);
      if (size > EDGE_BYTES) {
        const tail = Buffer.alloc(Math.min(size - EDGE_BYTES, EDGE_BYTES));
        await handle.read(tail, 0, tail.length, size - tail.length);
        hash.update(tail);
      }
    } finally {
      await handle.close();
    }
  }
  return hash.digest('hex').slice(0, 16);
}
