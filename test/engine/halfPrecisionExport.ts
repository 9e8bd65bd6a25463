// An fp32 export rewritten into what `optimum-cli export onnx --fp16 --device cuda` writes, a model traced in half
// precision: float16 weights, activations, inputs and outputs, float32 only where diffusers computes in float32.
// torch 1.13 cannot trace in half precision on the CPU (prompt_lens_py.fixtures.sd_fixture --fp16 says why), so the test fixtures get
// there by rewriting the fp32 trace instead. The fp32 trace records every `.float()` and `.to(dtype)` as
// Cast(to=FLOAT); in a half trace they part ways:
//  - float32 islands stay: the sinusoidal timestep embedding (`timesteps[:, None].float() * freqs`, an int -> float
//    Cast, up to `t_emb.to(sample.dtype)`), and upcast attention scores (SD 2.x `upcast_attention` casts q and k,
//    the VAE's `upcast_softmax` the scores: a float -> float Cast with a Softmax a few nodes downstream) up to the
//    `attention_probs.to(dtype)` after the Softmax;
//  - every other float Cast is a `.to(dtype)` and becomes Cast(to=FLOAT16).
// Data types are then propagated through the graph; constants (initializers, Constant, ConstantOfShape) take the
// type of the computation that reads them, as torch creates them in the dtype of the tensors they meet.
import { readFileSync, writeFileSync } from 'node:fs';
import { AttrType, DataType, decodeModel, encodeModel, toNumber, type AttributeProto, type NodeProto, type TensorProto } from '../../src/engine/onnx/proto';
import { tensorDims } from '../../src/engine/onnx/tensorData';
import { floatToHalf } from '../../src/engine/safetensors/f16';

type Precision = 'f32' | 'f16';
/** A float tensor's precision; 'constant' until the computation that reads it decides. Non-float tensors are absent. */
type FloatKind = Precision | 'constant';

const NON_FLOAT_OUTPUTS = new Set(['Shape', 'Size', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'NonZero', 'ArgMax', 'ArgMin']);
/** Outputs that depend on their inputs' shapes only. */
const SHAPE_ONLY = new Set(['Shape', 'Size', 'ConstantOfShape']);
/** Inputs that stay float32 whatever the data's precision (Resize's roi and scales). */
const FLOAT32_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2] };
/** How far downstream of an upcast Cast its Softmax is (q Cast -> MatMul -> Mul -> Add -> Softmax; k has a Transpose more). */
const UPCAST_REACH = 5;

const MAX_HALF = 65504;

function halfBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(values.length);
  // Out-of-range finite values (CLIP's finfo(float32).min mask) saturate as torch's finfo(float16) does.
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(Number.isFinite(values[i]) ? Math.max(-MAX_HALF, Math.min(MAX_HALF, values[i])) : values[i]);
  return new Uint8Array(out.buffer);
}

function floatValues(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData.length); // protobufjs hands out views into the file; copy for alignment
    copy.set(t.rawData);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** A float32 tensor as float16 (a new TensorProto; the original may still be read at float32 elsewhere). */
function toHalf(t: TensorProto, name = t.name): TensorProto {
  return { name, dims: tensorDims(t), dataType: DataType.FLOAT16, rawData: halfBytes(floatValues(t)) };
}

function castTo(node: NodeProto): AttributeProto | undefined {
  return node.opType === 'Cast' ? node.attribute?.find((a) => a.name === 'to') : undefined;
}

/** Rewrites the model at `path` in place; returns the names of the Casts kept at float32 (the islands' entries). */
export function toHalfPrecisionExport(path: string): string[] {
  const model = decodeModel(readFileSync(path));
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const x of n.input ?? []) consumers.set(x, [...(consumers.get(x) ?? []), n]);

  const reachesSoftmax = (n: NodeProto, depth: number): boolean =>
    depth > 0 && (n.output ?? []).some((o) => (consumers.get(o) ?? []).some((c) => c.opType === 'Softmax' || (c.opType !== 'Cast' && reachesSoftmax(c, depth - 1))));

  const kind = new Map<string, FloatKind>();
  for (const v of graph.input ?? []) {
    const tt = v.type?.tensorType;
    if (tt?.elemType === DataType.FLOAT && !initializers.has(v.name!)) {
      tt.elemType = DataType.FLOAT16;
      kind.set(v.name!, 'f16');
    }
  }
  for (const t of initializers.values()) if (t.dataType === DataType.FLOAT) kind.set(t.name!, 'constant');

  // Forward: the precision of every computed float tensor. A float computed from constants and the values (not
  // just the shapes) of graph inputs, such as CLIP's token embedding Gather(weights, input_ids), is half precision.
  const valueOfInput = new Set((graph.input ?? []).map((v) => v.name!).filter((x) => !initializers.has(x)));
  const keptFloat32: string[] = [];
  for (const n of nodes) {
    const outs = n.output ?? [];
    if (!SHAPE_ONLY.has(n.opType!) && (n.input ?? []).some((x) => valueOfInput.has(x))) for (const o of outs) valueOfInput.add(o);
    const to = castTo(n);
    if (n.opType === 'Constant') {
      const value = n.attribute?.find((a) => a.name === 'value')?.t;
      if (value?.dataType === DataType.FLOAT) kind.set(outs[0], 'constant');
    } else if (n.opType === 'ConstantOfShape') {
      const value = n.attribute?.find((a) => a.name === 'value')?.t;
      if (!value || value.dataType === DataType.FLOAT) kind.set(outs[0], 'constant');
    } else if (to) {
      if (toNumber(to.i) !== DataType.FLOAT) continue;
      const fromFloat = kind.has(n.input![0]);
      const upcast = fromFloat ? reachesSoftmax(n, UPCAST_REACH) : n.name!.startsWith('/time_proj/');
      if (upcast) keptFloat32.push(n.name!);
      else to.i = DataType.FLOAT16;
      kind.set(outs[0], upcast ? 'f32' : 'f16');
    } else if (!NON_FLOAT_OUTPUTS.has(n.opType!)) {
      const fixed = FLOAT32_INPUTS[n.opType!] ?? [];
      const precisions = new Set((n.input ?? []).filter((_, i) => !fixed.includes(i)).map((x) => kind.get(x)).filter((k) => k !== undefined));
      const data = [...precisions].filter((k): k is Precision => k !== 'constant');
      if (data.length > 1) throw new Error(`${n.opType} ${n.name} mixes float32 and float16 inputs: a Cast rule is missing`);
      if (data.length || precisions.size) for (const o of outs) kind.set(o, data[0] ?? (valueOfInput.has(o) ? 'f16' : 'constant'));
    }
  }

  // Backward: constants take the precision of the computation that reads them (a copy where readers disagree).
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const resolved = new Map<string, Precision>();
  const copies: NodeProto[] = [];
  const extraInitializers: TensorProto[] = [];
  for (const n of [...nodes].reverse()) {
    const own = (n.output ?? []).map((o) => kind.get(o) === 'constant' ? resolved.get(o) : kind.get(o)).find((k): k is Precision => k === 'f32' || k === 'f16');
    const precision = own ?? (n.input ?? []).map((x) => kind.get(x)).find((k): k is Precision => k === 'f32' || k === 'f16');
    if (!precision || castTo(n)) continue;
    const fixed = FLOAT32_INPUTS[n.opType!] ?? [];
    n.input = (n.input ?? []).map((x, i) => {
      if (fixed.includes(i) || kind.get(x) !== 'constant') return x;
      const already = resolved.get(x);
      if (already === undefined || already === precision) {
        resolved.set(x, precision);
        return x;
      }
      // Read at both precisions: this reader gets its own copy.
      const copy = `${x}__${precision}`;
      if (!resolved.has(copy)) {
        resolved.set(copy, precision);
        const source = initializers.get(x);
        const made = producer.get(x);
        if (source) extraInitializers.push({ ...source, name: copy });
        else if (made?.opType === 'Constant' || made?.opType === 'ConstantOfShape') copies.push({ ...made, name: `${made.name}__${precision}`, output: [copy], attribute: made.attribute?.map((a) => ({ ...a })) });
        else throw new Error(`${x} is read at float32 and float16 and is not a constant`);
        kind.set(copy, 'constant');
      }
      return copy;
    });
  }
  graph.initializer = [...(graph.initializer ?? []), ...extraInitializers];
  graph.node = [...copies, ...nodes];

  for (const t of graph.initializer) {
    if (resolved.get(t.name!) === 'f16') Object.assign(t, toHalf(t), { floatData: [] });
  }
  for (const n of graph.node) {
    if (resolved.get(n.output?.[0] ?? '') !== 'f16') continue;
    if (n.opType !== 'Constant' && n.opType !== 'ConstantOfShape') continue;
    const attr = n.attribute?.find((a) => a.name === 'value');
    const value = attr?.t ?? { dims: [1], dataType: DataType.FLOAT, floatData: [0] };
    const half = toHalf(value);
    if (attr) attr.t = half;
    else n.attribute = [...(n.attribute ?? []), { name: 'value', type: AttrType.TENSOR, t: half }];
  }
  for (const v of graph.output ?? []) {
    const tt = v.type?.tensorType;
    if (tt?.elemType === DataType.FLOAT && kind.get(v.name!) === 'f16') tt.elemType = DataType.FLOAT16;
  }
  graph.valueInfo = []; // stale float32 annotations; onnxruntime infers the types again
  writeFileSync(path, encodeModel(model));
  return keptFloat32;
}
