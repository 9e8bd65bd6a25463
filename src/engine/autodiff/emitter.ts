/**
 * Appends nodes and constants to an ONNX graph under fresh names: the small vocabulary the gradient
 * rules are written in. Shapes are static (see staticShapes.ts), so every helper takes plain numbers.
 */
import { floatToHalf } from '../safetensors/f16';
import { AttrType, DataType, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/proto';

export type AttrValue = number | number[] | string | { float: number };

/** Attributes by name: integers and integer lists as numbers, floats wrapped as `{ float }`. */
export type Attrs = Record<string, AttrValue | undefined>;

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'string') return { name, type: 3, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  return { name, type: AttrType.FLOAT, f: value.float };
}

function attributes(attrs: Attrs): AttributeProto[] {
  return Object.entries(attrs)
    .filter((e): e is [string, AttrValue] => e[1] !== undefined)
    .map(([k, v]) => attribute(k, v));
}

/** A rank-0 or 1-D tensor of `dtype` (float32, float16, int64) holding `values`. */
export function constantTensor(name: string, dtype: number, values: number[], dims: number[]): TensorProto {
  let raw: Uint8Array;
  if (dtype === DataType.FLOAT) raw = new Uint8Array(Float32Array.from(values).buffer);
  else if (dtype === DataType.FLOAT16) raw = new Uint8Array(Uint16Array.from(values.map(floatToHalf)).buffer);
  else if (dtype === DataType.DOUBLE) raw = new Uint8Array(Float64Array.from(values).buffer);
  else if (dtype === DataType.INT64) raw = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
  else throw new Error(`constant of ONNX data type ${dtype} is not supported`);
  return { name, dims, dataType: dtype, rawData: raw };
}

export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<string, string>();
  private readonly nextSuffix = new Map<string, number>();

  /** `used`: every name already in the graph; `opset`: the default domain's version. */
  constructor(private readonly used: Set<string>, readonly opset: number, private readonly scope: string) {}

  fresh(base: string): string {
    // The same names as trying suffixes from _1 up every time, without rescanning the taken ones (a gradient
    // model has thousands of Mul_out_<n>: the rescans made emitting sd-tiny's take 1-2 s).
    let name = `${this.scope}/${base}`;
    let i = this.nextSuffix.get(base) ?? 1;
    while (this.used.has(name)) name = `${this.scope}/${base}_${i++}`;
    this.nextSuffix.set(base, i);
    this.used.add(name);
    return name;
  }

  /** One node with `outputs` results (named after the op); returns the output names. */
  opN(opType: string, inputs: string[], outputs: number, attrs: Attrs = {}): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(`${opType}_out`));
    this.nodes.push({ opType, name: this.fresh(opType), input: inputs, output: names, attribute: attributes(attrs) });
    return names;
  }

  op(opType: string, inputs: string[], attrs: Attrs = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0];
  }

  /** One node writing the given (already reserved) output name. */
  opTo(opType: string, inputs: string[], output: string, attrs: Attrs = {}): void {
    this.nodes.push({ opType, name: this.fresh(opType), input: inputs, output: [output], attribute: attributes(attrs) });
  }

  /** A cached constant initializer. */
  constant(dtype: number, values: number[], dims: number[] = [values.length]): string {
    const key = `${dtype}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const');
      this.initializers.push(constantTensor(name, dtype, values, dims));
      this.constants.set(key, name);
    }
    return name;
  }

  int64s(values: number[]): string {
    return this.constant(DataType.INT64, values);
  }

  scalar(value: number, dtype: number): string {
    return this.constant(dtype, [value], []);
  }

  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.int64s(shape)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  /** Swaps the last two axes of a rank-`rank` tensor. */
  transposeLast2(x: string, rank: number): string {
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return this.transpose(x, perm);
  }

  /** Sum over `axes`, keeping them as size-1 axes when `keepdims`. */
  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    return this.reduce('ReduceSum', x, axes, keepdims);
  }

  /** A Reduce* op over `axes` (non-empty): ReduceSum takes them as an input from opset 13, the others from opset 18. */
  reduce(op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd', x: string, axes: number[], keepdims: boolean): string {
    const asInput = this.opset >= (op === 'ReduceSum' ? 13 : 18);
    return asInput
      ? this.op(op, [x, this.int64s(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op(op, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** Mean over `axes` of a tensor of `shape`, as a sum times 1/n (static shapes make n a constant). */
  reduceMean(x: string, shape: number[], axes: number[], dtype: number): string {
    const n = axes.reduce((p, a) => p * shape[a], 1);
    return this.op('Mul', [this.reduceSum(x, axes, true), this.scalar(1 / n, dtype)]);
  }

  /**
   * The gradient of a broadcast operand: `dy` (of `dyShape`) summed over the axes that broadcasting
   * added or stretched, reshaped to the operand's `shape`.
   */
  unbroadcast(dy: string, dyShape: number[], shape: number[]): string {
    const lead = dyShape.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < dyShape.length; i++) {
      if (i < lead || (shape[i - lead] === 1 && dyShape[i] !== 1)) axes.push(i);
    }
    if (axes.length === 0 && lead === 0) return dy;
    const summed = this.reduceSum(dy, axes, true);
    return sameShape(dyShape.map((d, i) => (axes.includes(i) ? 1 : d)), shape) ? summed : this.reshape(summed, shape);
  }

  cast(x: string, to: number): string {
    return this.op('Cast', [x], { to });
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
