/**
 * instrumentUnet: makes (or reuses) a copy of a diffusers-style UNet ONNX graph that exposes every cross-attention
 * layer's probabilities and queries and takes its key-projection weights as inputs. See docs/contracts.md.
 */
import { access, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readSafetensors, writeSafetensors, halfsToFloats, type SafeTensor } from '../safetensors';
import { writeFileAtomic } from '../files/writeFileAtomic';
import { cacheDirFor, cachePaths, fileDigest, INSTRUMENTER_VERSION, mirrorFiles } from './cache';
import { scanAttention } from './findAttention';
import { GraphIndex } from './graph';
import { planLayers, type LayerPlan } from './layers';
import { decodeModel, defaultOpset, encodeModel, toNumber, type ModelProto } from './proto';
import { rewriteGraph } from './rewrite';
import { referenceSourceWeights } from './shareWeights';
import { isExternal, readFloatTensor } from './tensorData';
import { InstrumentError, type CrossAttentionLayer, type InstrumentedUnet, type InstrumentOptions } from './types';

export * from './types';

const TEXT_INPUT = 'encoder_hidden_states';
const SHARE_WEIGHTS_ABOVE = 256 * 1024 * 1024;

interface Manifest {
  instrumenter: number;
  source: string;
  onnx: string;
  keys: string;
  perHead: boolean;
  /**
   * size and mtime of the original's external data files that the keys were read from or the copy reads (relative to
   * the original's folder): a changed file invalidates the cache.
   */
  externalFiles: Record<string, string>;
  /** fileDigest of the copy and the keys file as written: a damaged copy is made again instead of failing every run. */
  digests: Record<string, string>;
  layers: CrossAttentionLayer[];
}

export async function instrumentUnet(modelPath: string, options: InstrumentOptions): Promise<InstrumentedUnet> {
  await access(modelPath).catch(() => {
    throw new InstrumentError(`UNet model not found: ${modelPath}`);
  });
  const share = options.shareWeights ?? (await stat(modelPath)).size > SHARE_WEIGHTS_ABOVE;
  const baseDir = dirname(modelPath);
  const { dir, beside } = await cacheDirFor(modelPath, options.cache);
  const paths = await cachePaths(modelPath, { perHead: options.perHead, heads: options.heads ?? null, share }, dir);
  const cached = await readCached(modelPath, paths.manifest);
  if (cached) return cached;

  const bytes = await readFile(modelPath);
  const model = parseModel(bytes, modelPath);
  const index = new GraphIndex(model.graph!);
  const plans = planLayers(index, findLayers(index, modelPath), options.heads);

  // Read the originals before the rewrite drops their initializers.
  const keys = new Map<string, SafeTensor>();
  for (const plan of plans) keys.set(`${plan.name}.to_k.weight`, await torchLayoutKey(plan, index, baseDir));

  model.metadataProps = [...((model.metadataProps as object[]) ?? []), { key: 'prompt_lens.instrumenter', value: String(INSTRUMENTER_VERSION) }];
  const layers = rewriteGraph(model, index, plans, options.perHead);
  if (share) referenceSourceWeights(model, bytes, basename(modelPath));

  const readByCopy = externalFilesOf(model);
  const externalFiles = [...new Set([...externalLocations(plans, index), ...readByCopy])].sort();
  try {
    await writeSafetensors(paths.keys, keys, { format: 'pt', source: basename(modelPath), layout: 'torch [inner, text]' });
    await writeFileAtomic(paths.onnx, encodeModel(model));
    // onnxruntime reads a graph's external weights only from its own folder: the cache folder gets them too.
    if (!beside) await mirrorFiles(readByCopy, baseDir, dir);
    const manifest: Manifest = {
      instrumenter: INSTRUMENTER_VERSION, source: basename(modelPath), onnx: basename(paths.onnx), keys: basename(paths.keys),
      perHead: options.perHead, externalFiles: await fileStamps(baseDir, externalFiles),
      digests: { [basename(paths.onnx)]: await fileDigest(paths.onnx), [basename(paths.keys)]: await fileDigest(paths.keys) }, layers,
    };
    // The manifest goes last: its presence means the other files are complete.
    await writeFileAtomic(paths.manifest, JSON.stringify(manifest, null, 2) + '\n');
  } catch (err) {
    throw new InstrumentError(`cannot write the instrumented copy of ${modelPath} in ${dir}: ${(err as Error).message}`);
  }
  return { path: paths.onnx, keysPath: paths.keys, manifestPath: paths.manifest, sourcePath: modelPath, layers, perHead: options.perHead };
}

/** The original key weights in the graph's layout (keyShape), as float32, ready to feed as the layers' key inputs. */
export async function loadOriginalKeys(inst: InstrumentedUnet): Promise<Map<string, Float32Array>> {
  const file = await readSafetensors(inst.keysPath);
  const out = new Map<string, Float32Array>();
  for (const layer of inst.layers) {
    const t = file.tensors.get(`${layer.name}.to_k.weight`);
    if (!t) throw new Error(`${inst.keysPath} has no ${layer.name}.to_k.weight`);
    const torch = t.data instanceof Float32Array ? t.data : halfsToFloats(t.data);
    out.set(layer.name, layer.keyTransposed ? transpose(torch, layer.innerDim, layer.textDim) : torch);
  }
  return out;
}

function parseModel(bytes: Uint8Array, path: string): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new InstrumentError(`${path} is not an ONNX model (${(err as Error).message})`);
  }
  if (!model.graph || !(model.graph.node ?? []).length || toNumber(model.irVersion) <= 0) {
    throw new InstrumentError(`${path} is not an ONNX model (no graph found)`);
  }
  if (defaultOpset(model) < 10) throw new InstrumentError(`${path}: opset ${defaultOpset(model)} is too old; export with opset 13 or newer`);
  return model;
}

function findLayers(index: GraphIndex, path: string) {
  const textInput = index.inputs.has(TEXT_INPUT) ? TEXT_INPUT : undefined;
  if (!textInput) {
    throw new InstrumentError(`${path}: the graph has no input named ${TEXT_INPUT} (inputs: ${[...index.inputs].join(', ')}); is this a UNet?`);
  }
  const scan = scanAttention(index, textInput);
  if (scan.fused.length) {
    const list = scan.fused.slice(0, 3).map((n) => `${n.domain ? n.domain + '.' : ''}${n.opType} "${n.name ?? ''}"`).join(', ');
    throw new InstrumentError(
      `${path}: attention is fused (${scan.fused.length} node(s), e.g. ${list}), so its probabilities are not in the graph. ` +
        'Export an unfused graph instead: diffusers/Optimum export without onnxruntime transformer optimisation ' +
        '(`optimum-cli export onnx` without `--optimize`), with the classic attention processor.',
    );
  }
  if (!scan.matches.length) {
    const fns = ((index.graph as { functions?: unknown[] }).functions ?? []).length;
    throw new InstrumentError(
      `${path}: no cross-attention found: ${scan.softmaxCount} Softmax node(s) seen, none reads keys projected from ${TEXT_INPUT}` +
        (scan.softmaxCount === 0 ? ' (attention without a Softmax node is fused or custom; export an unfused graph)' : '') +
        (fns ? '; the model uses local functions, inline them first' : ''),
    );
  }
  return scan.matches;
}

async function torchLayoutKey(plan: LayerPlan, index: GraphIndex, baseDir: string): Promise<SafeTensor> {
  const { values, halfBits } = await readFloatTensor(index.initializers.get(plan.match.keyWeight)!, baseDir);
  const shape = [plan.innerDim, plan.textDim];
  if (!plan.match.keyTransposed) return halfBits ? { dtype: 'F16', shape, data: halfBits } : { dtype: 'F32', shape, data: values };
  if (halfBits) return { dtype: 'F16', shape, data: transpose(halfBits, plan.textDim, plan.innerDim) };
  return { dtype: 'F32', shape, data: transpose(values, plan.textDim, plan.innerDim) };
}

/** Row-major [rows, cols] -> [cols, rows]. */
export function transpose<T extends Float32Array | Uint16Array>(src: T, rows: number, cols: number): T {
  const out = new (src.constructor as { new (n: number): T })(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** The external data files holding key weights (their bytes end up in the keys file, so they identify the cache too). */
function externalLocations(plans: LayerPlan[], index: GraphIndex): string[] {
  const files = new Set<string>();
  for (const p of plans) {
    const t = index.initializers.get(p.match.keyWeight)!;
    const loc = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (loc) files.add(loc);
  }
  return [...files].sort();
}

async function fileStamps(dir: string, files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of files) {
    const st = await stat(join(dir, f));
    out[f] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

/** The external data files a model reads, as written in it (relative to its folder). */
function externalFilesOf(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    const loc = isExternal(t) ? (t.externalData ?? []).find((e) => e.key === 'location')?.value : undefined;
    if (loc) files.add(loc);
  }
  return [...files].sort();
}

/** The cached copy, when its manifest is current, the original's external files unchanged and the copy and keys intact. */
async function readCached(modelPath: string, manifestPath: string): Promise<InstrumentedUnet | undefined> {
  try {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    if (m.instrumenter !== INSTRUMENTER_VERSION || !m.digests) return undefined;
    const stamps = await fileStamps(dirname(modelPath), Object.keys(m.externalFiles ?? {}));
    if (Object.entries(stamps).some(([f, s]) => m.externalFiles[f] !== s)) return undefined;
    if (!(m.onnx in m.digests) || !(m.keys in m.digests)) return undefined;
    const dir = dirname(manifestPath);
    for (const [name, digest] of Object.entries(m.digests)) if ((await fileDigest(join(dir, name))) !== digest) return undefined;
    const path = join(dir, m.onnx);
    const keysPath = join(dir, m.keys);
    return { path, keysPath, manifestPath, sourcePath: modelPath, layers: m.layers, perHead: m.perHead };
  } catch {
    return undefined;
  }
}
