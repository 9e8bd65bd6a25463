/**
 * Small attention graphs built directly as ModelProto, for cases torch 1.13 cannot export cheaply: 4-D (unfolded)
 * heads, float16 weights, external data, opset 18, fused contrib attention, attention without a Softmax.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatToHalf } from '../../../src/engine/safetensors/f16';
import { AttrType, DataType, encodeModel, type ModelProto, type NodeProto, type TensorProto } from '../../../src/engine/onnx/proto';

export interface SynthOptions {
  dtype?: 'float32' | 'float16';
  /** Store the q and k weights in `<dir>/weights.bin` as external data (k at a non-zero offset). */
  externalDir?: string;
  opset?: number;
  /** sdpa: torch's scaled_dot_product_attention export, q and k^T each times sqrt(1/sqrt(d)) computed from shapes. */
  variant?: 'unfused' | 'fused' | 'noSoftmax' | 'sdpa';
  /** Node names without module scopes (layer names then fall back to an index). */
  unscoped?: boolean;
  /** to_v reads the same initializer as to_k (as after an exporter's deduplication of equal weights). */
  sharedKeyValue?: boolean;
  heads?: number;
  headDim?: number;
  textDim?: number;
  seed?: number;
}

export const SCOPE = '/mid_block/attentions.0/transformer_blocks.0/attn2';
export const LAYER = 'mid_block.attentions.0.transformer_blocks.0.attn2';

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed) * 0.5);
}

export function buildAttentionModel(opts: SynthOptions = {}): { model: ModelProto; bytes: Uint8Array; wk: Float32Array } {
  const { dtype = 'float32', opset = 17, variant = 'unfused', heads = 2, headDim = 4, textDim = 6, seed = 1 } = opts;
  const inner = heads * headDim;
  const elem = dtype === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  const toBytes = (v: Float32Array) =>
    dtype === 'float16' ? new Uint8Array(Uint16Array.from(v, (x) => floatToHalf(x)).buffer) : new Uint8Array(v.buffer.slice(0));
  let external = new Uint8Array(0);
  const weight = (name: string, dims: number[], v: Float32Array, ext: boolean): TensorProto => {
    const raw = toBytes(v);
    if (!ext || !opts.externalDir) return { name, dims, dataType: elem, rawData: raw };
    const offset = external.length;
    const grown = new Uint8Array(offset + raw.length);
    grown.set(external);
    grown.set(raw, offset);
    external = grown;
    return {
      name, dims, dataType: elem, dataLocation: 1,
      externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.length) }],
    };
  };
  const wq = values(inner * inner, seed);
  const wk = values(textDim * inner, seed + 1);
  const wv = values(textDim * inner, 42); // embedded: kept independent of seed so only weights.bin changes with it
  const ints = (name: string, v: number[]): TensorProto => ({ name, dims: [v.length], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
  const initializer: TensorProto[] = [
    weight('onnx::MatMul_q', [inner, inner], wq, true),
    weight('onnx::MatMul_k', [textDim, inner], wk, true),
    weight('onnx::MatMul_v', [textDim, inner], wv, false),
    ints('split_heads', [0, 0, heads, headDim]),
    ints('merge_heads', [0, 0, inner]),
    { name: 'sqrt_d', dims: [], dataType: elem, rawData: toBytes(Float32Array.of(Math.sqrt(headDim))) },
    { name: 'one', dims: [], dataType: elem, rawData: toBytes(Float32Array.of(1)) },
    ints('minus1', [-1]),
    ints('int64max', [Number.MAX_SAFE_INTEGER]),
  ];
  const n = (op: string, name: string, input: string[], output: string[], attribute: NodeProto['attribute'] = [], domain?: string): NodeProto =>
    ({ opType: op, name: opts.unscoped ? `${name.replace(/\//g, '_')}_7` : `${SCOPE}/${name}`, input, output, attribute, ...(domain ? { domain } : {}) });
  const perm = (p: number[]) => [{ name: 'perm', type: AttrType.INTS, ints: p }];
  const node: NodeProto[] = [
    n('MatMul', 'to_q/MatMul', ['hidden_states', 'onnx::MatMul_q'], ['q']),
    n('MatMul', 'to_k/MatMul', ['encoder_hidden_states', 'onnx::MatMul_k'], ['k']),
    n('MatMul', 'to_v/MatMul', ['encoder_hidden_states', opts.sharedKeyValue ? 'onnx::MatMul_k' : 'onnx::MatMul_v'], ['v']),
  ];
  if (variant === 'fused') {
    node.push(n('MultiHeadAttention', 'MultiHeadAttention', ['q', 'k', 'v'], ['out_sample'], [{ name: 'num_heads', type: AttrType.INT, i: heads }], 'com.microsoft'));
  } else {
    node.push(
      n('Reshape', 'Reshape', ['q', 'split_heads'], ['q4']),
      n('Transpose', 'Transpose', ['q4'], ['qh'], perm([0, 2, 1, 3])),
      n('Reshape', 'Reshape_1', ['k', 'split_heads'], ['k4']),
      n('Transpose', 'Transpose_1', ['k4'], ['khT'], perm([0, 2, 3, 1])),
      n('Reshape', 'Reshape_2', ['v', 'split_heads'], ['v4']),
      n('Transpose', 'Transpose_2', ['v4'], ['vh'], perm([0, 2, 1, 3])),
      ...(variant === 'sdpa'
        ? [
            n('Shape', 'Shape', ['qh'], ['qshape']),
            n('Slice', 'Slice', ['qshape', 'minus1', 'int64max'], ['dlast']),
            n('Cast', 'Cast', ['dlast'], ['dfloat'], [{ name: 'to', type: AttrType.INT, i: elem }]),
            n('Sqrt', 'Sqrt', ['dfloat'], ['sqrtd']),
            n('Div', 'Div', ['one', 'sqrtd'], ['scale']),
            n('Sqrt', 'Sqrt_1', ['scale'], ['sqrtscale']),
            n('Mul', 'Mul', ['qh', 'sqrtscale'], ['qs']),
            n('Mul', 'Mul_1', ['khT', 'sqrtscale'], ['ks']),
            n('MatMul', 'MatMul', ['qs', 'ks'], ['scaled']),
          ]
        : [n('MatMul', 'MatMul', ['qh', 'khT'], ['scores']), n('Div', 'Div', ['scores', 'sqrt_d'], ['scaled'])]),
      variant === 'noSoftmax' ? n('Sigmoid', 'Sigmoid', ['scaled'], ['probs']) : n('Softmax', 'Softmax', ['scaled'], ['probs'], [{ name: 'axis', type: AttrType.INT, i: -1 }]),
      n('MatMul', 'MatMul_1', ['probs', 'vh'], ['oh']),
      n('Transpose', 'Transpose_3', ['oh'], ['o4'], perm([0, 2, 1, 3])),
      n('Reshape', 'Reshape_3', ['o4', 'merge_heads'], ['out_sample']),
    );
  }
  const io = (name: string, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const model: ModelProto = {
    irVersion: 8,
    producerName: 'prompt-lens-test',
    opsetImport: [{ domain: '', version: opset }, ...(variant === 'fused' ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'synthetic_attention',
      node,
      initializer,
      input: [io('hidden_states', ['batch', 'queries', inner]), io('encoder_hidden_states', ['batch', 'tokens', textDim])],
      output: [io('out_sample', ['batch', 'queries', inner])],
    },
  };
  if (opts.externalDir) writeFileSync(join(opts.externalDir, 'weights.bin'), external);
  return { model, bytes: encodeModel(model), wk };
}
