// Finetuned key projections on disk: a safetensors file with diffusers parameter names
// (`<layer>.to_k.weight`, torch layout [inner, D]) and metadata tying it to its base model.
// It is an overlay: loading it never touches the base model, and a file made from another
// base model is refused.
import { promises as fs } from 'node:fs';
import type { CrossAttentionLayer } from '../onnx/instrument';
import { transpose } from '../onnx/instrument';
import { decodeSafetensors, encodeSafetensors, floatsToHalfs, halfsToFloats, type SafeTensor } from '../safetensors';
import { validate } from '../record/check';
import { keySetMetadataFields, type KeySetMetadata } from '../record/schema';
import type { FinetuneStep } from './trainer';

export const KEY_SET_FORMAT = 'prompt-lens-keys/1';

export interface KeySetInfo {
  baseModelId: string;
  baseModelHash: string;
  prompts: string[];
  trainedLayers: string[];
  steps: number;
  lr: number;
  curve: FinetuneStep[];
}

export class KeySetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySetError';
  }
}

const parameterName = (layer: string): string => `${layer}.to_k.weight`;

export function encodeKeySet(keys: Map<string, Float32Array>, layers: CrossAttentionLayer[], info: KeySetInfo): Buffer {
  const tensors = new Map<string, SafeTensor>();
  for (const layer of info.trainedLayers.map((name) => layers.find((l) => l.name === name))) {
    if (!layer) throw new KeySetError('A trained layer is not in the model');
    const graph = keys.get(layer.name) as Float32Array;
    const torchLayout = layer.keyTransposed ? transpose(graph, layer.textDim, layer.innerDim) : graph;
    const shape = [layer.innerDim, layer.textDim];
    tensors.set(
      parameterName(layer.name),
      layer.keyDtype === 'float16' ? { dtype: 'F16', shape, data: floatsToHalfs(torchLayout) } : { dtype: 'F32', shape, data: torchLayout },
    );
  }
  return encodeSafetensors(tensors, {
    format: KEY_SET_FORMAT,
    base_model_id: info.baseModelId,
    base_model_hash: info.baseModelHash,
    prompts: JSON.stringify(info.prompts),
    trained_layers: JSON.stringify(info.trainedLayers),
    steps: String(info.steps),
    lr: String(info.lr),
    loss_curve: JSON.stringify(info.curve),
  });
}

/**
 * The base keys with the file's layers overlaid, in the graph's layout. `file` is named in every
 * error so the user knows which key set is wrong.
 */
export async function loadKeySet(
  file: string,
  base: Map<string, Float32Array>,
  layers: CrossAttentionLayer[],
  model: { id: string; hash: string },
): Promise<{ keys: Map<string, Float32Array>; info: Pick<KeySetInfo, 'baseModelId' | 'baseModelHash' | 'prompts' | 'trainedLayers'> }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new KeySetError(`Cannot read the key set ${file}`);
  }
  const { tensors, metadata: rawMetadata } = decodeSafetensors(bytes, file);
  if (rawMetadata.format !== KEY_SET_FORMAT) throw new KeySetError(`${file} is not a Prompt Lens key set (no "${KEY_SET_FORMAT}" metadata)`);
  let metadata: KeySetMetadata;
  try {
    metadata = validate(rawMetadata, keySetMetadataFields, file);
  } catch (error) {
    throw new KeySetError(error instanceof Error ? `${error.message} (in the key set's metadata)` : String(error));
  }
  if (metadata.base_model_hash !== model.hash) {
    throw new KeySetError(
      `${file} was finetuned from ${metadata.base_model_id} (fingerprint ${metadata.base_model_hash}), not from ${model.id} (fingerprint ${model.hash}); finetune this model instead`,
    );
  }
  const keys = new Map<string, Float32Array>([...base].map(([name, w]) => [name, Float32Array.from(w)]));
  for (const [name, tensor] of tensors) {
    const layer = layers.find((l) => parameterName(l.name) === name);
    if (!layer) throw new KeySetError(`${file}: ${name} is not a cross-attention key of ${model.id}`);
    if (tensor.shape[0] !== layer.innerDim || tensor.shape[1] !== layer.textDim) {
      throw new KeySetError(`${file}: ${name} has shape [${tensor.shape}], the model's is [${layer.innerDim}, ${layer.textDim}]`);
    }
    const values = tensor.data instanceof Uint16Array ? halfsToFloats(tensor.data) : Float32Array.from(tensor.data);
    // A NaN or infinite weight would sample a black "after" image that looks like a result.
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new KeySetError(`${file}: ${name} has ${values[bad]} at index ${bad}; a key set's weights must be finite numbers`);
    keys.set(layer.name, layer.keyTransposed ? transpose(values, layer.innerDim, layer.textDim) : values);
  }
  return {
    keys,
    info: {
      baseModelId: metadata.base_model_id,
      baseModelHash: metadata.base_model_hash,
      prompts: metadata.prompts ?? [],
      trainedLayers: metadata.trained_layers ?? [],
    },
  };
}
