// Builds input tensors in whatever integer/float type the exported graph declares,
// since exports differ (Optimum: int32 input_ids, int64 timestep; older scripts: float timestep).
import * as ort from 'onnxruntime-node';
import type { CrossAttentionLayer, InstrumentedUnet } from '../onnx/instrument';
import { floatsToHalfs, halfsToFloats } from '../safetensors';

export function inputType(session: ort.InferenceSession, name: string): ort.Tensor.Type {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (!meta) throw new Error(`The model has no input named "${name}" (inputs: ${session.inputNames.join(', ')})`);
  if (!meta.isTensor) throw new Error(`Input "${name}" is not a tensor`);
  return meta.type;
}

export function inputShape(session: ort.InferenceSession, name: string): ReadonlyArray<number | string> {
  const meta = session.inputMetadata.find((m) => m.name === name);
  return meta && meta.isTensor ? meta.shape : [];
}

/** Integer-valued tensor (token ids, timesteps) in the declared type. */
export function integerTensor(type: ort.Tensor.Type, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  switch (type) {
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    default:
      throw new Error(`Unsupported input type ${type} for an integer-valued input`);
  }
}

/** An output as float32: fp16 exports (optimum --fp16) return float16, which the engine widens. */
export function float32Data(value: ort.OnnxValue | undefined, name: string): Float32Array {
  if (!value || !(value instanceof ort.Tensor)) throw new Error(`The model produced no output "${name}"`);
  if (value.type === 'float32') return value.data as Float32Array;
  if (value.type === 'float16') return halfsToFloats(value.data as Uint16Array);
  throw new Error(`Output "${name}" is ${value.type}; expected float32 or float16`);
}

/** A float input in the type the graph declares (float16 for fp16 exports), from the engine's float32. */
export function floatTensor(session: ort.InferenceSession, name: string, values: Float32Array, dims: readonly number[]): ort.Tensor {
  return inputType(session, name) === 'float16'
    ? new ort.Tensor('float16', floatsToHalfs(values), [...dims])
    : new ort.Tensor('float32', values, [...dims]);
}

/** A key-projection weight (float32 in the engine) as the graph's input: fp16 exports take float16. */
export function keyTensor(layer: CrossAttentionLayer, values: Float32Array): ort.Tensor {
  return layer.keyDtype === 'float16'
    ? new ort.Tensor('float16', floatsToHalfs(values), [...layer.keyShape])
    : new ort.Tensor('float32', values, [...layer.keyShape]);
}

/** Every instrumented layer's key input, from key weights by layer name. */
export function keyFeedsFor(instrumented: InstrumentedUnet, keys: Map<string, Float32Array>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const layer of instrumented.layers) {
    const values = keys.get(layer.name);
    if (!values) throw new Error(`No key weights for layer ${layer.name}`);
    feeds[layer.keyInput] = keyTensor(layer, values);
  }
  return feeds;
}
