/**
 * Every gradient rule of src/engine/autodiff against central differences, on one-node graphs (two nodes
 * where the rule needs it): float64 where onnxruntime's CPU provider has the double kernels, else float32
 * along random directions. Each test's diagnostic line gives its worst relative error.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Emitter } from '../../../src/engine/autodiff/emitter';
import { DataType } from '../../../src/engine/onnx/proto';
import { checkGradient, FLOAT, FLOAT16, gradientOf, type GraphCase, type Values } from './gradCheck';

type Case = [title: string, c: GraphCase];

/** A raw initializer (bool conditions, int64 bounds beyond 2^53). */
function rawConstant(e: Emitter, dataType: number, bytes: ArrayBufferView, dims: number[]): string {
  const name = e.fresh('raw');
  e.initializers.push({ name, dims, dataType, rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  return name;
}
const INT64_MAX = 9223372036854775807n;
const int64Max = (e: Emitter, values: bigint[]) => rawConstant(e, DataType.INT64, BigInt64Array.from(values), [values.length]);

async function run(t: TestContext, c: GraphCase): Promise<void> {
  const { worst } = await checkGradient(c);
  t.diagnostic(`worst relative error ${worst.toExponential(1)}`);
}

function suite(name: string, cases: Case[]): void {
  describe(name, () => {
    for (const [title, c] of cases) test(title, (t) => run(t, c));
  });
}

const unary = (op: string, values: Values = 'signed', extra: Partial<GraphCase> = {}): Case =>
  [op, { inputs: { x: { shape: [3, 4], values } }, build: (e) => e.op(op, ['x']), ...extra }];

/** Shape pairs covering broadcasting both ways, rank-changing on either side. */
const BROADCASTS: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3, 4], [3, 1]], [[4], [2, 3, 4]], [[1, 4], [3, 1]]];

suite('elementwise binaries with broadcasting', ['Add', 'Sub', 'Mul', 'Div'].flatMap((op) =>
  BROADCASTS.map(([a, b]): Case => [`${op} [${a}] [${b}]`, {
    inputs: { a, b: { shape: b, values: op === 'Div' ? 'positive' : 'signed' } },
    build: (e) => e.op(op, ['a', 'b']),
  }]),
));

suite('Pow with a constant exponent', [
  ['scalar exponent', { inputs: { x: { shape: [2, 3], values: 'positive' } }, build: (e, d) => e.op('Pow', ['x', e.constant(d, [2.5], [])]) }],
  ['exponent broadcasting the base up a rank', {
    inputs: { x: { shape: [3], values: 'positive' } },
    build: (e, d) => e.op('Pow', ['x', e.constant(d, [0.5, 2, 3, -1, 1.5, 4], [2, 3])]),
  }],
  ['int64 exponent', { inputs: { x: [2, 3] }, build: (e) => e.op('Pow', ['x', e.constant(DataType.INT64, [3], [])]) }],
]);

suite('elementwise unaries', [
  unary('Neg'),
  unary('Sqrt', 'positive'),
  unary('Reciprocal', 'apart'),
  unary('Exp'),
  unary('Log', 'positive'),
  unary('Sigmoid'),
  unary('Tanh'),
  unary('Erf', 'signed', { dtype: FLOAT }),
  unary('Relu', 'apart'),
  unary('Identity'),
  unary('Dropout'),
  unary('Gelu', 'signed', { dtype: FLOAT, opset: 20, h: 1e-3 }),
  ['x * x (one tensor read twice: the contributions are summed)', { inputs: { x: [3, 4] }, build: (e) => e.op('Mul', ['x', 'x']) }],
]);

suite('Cast', [
  // float16 holds x +- 1/16 exactly for x on the 1/64 grid, so the differences are exact; the gradient
  // itself passes through float16 (R rounded to 11 bits), hence the tolerance.
  ['float32 -> float16 -> float32', {
    dtype: FLOAT, inputs: { x: { shape: [3, 4], values: 'grid' } }, mode: 'element', h: 1 / 16, tolerance: 1e-3,
    build: (e) => e.cast(e.cast('x', FLOAT16), FLOAT),
  }],
  ['a float16 input -> float32', {
    inputs: { x: { shape: [3, 4], values: 'grid', dtype: FLOAT16 } }, mode: 'element', h: 1 / 16, tolerance: 1e-3,
    build: (e) => e.cast('x', FLOAT),
  }],
  ['float64 -> float32', {
    inputs: { x: { shape: [3, 4], values: 'grid' } }, h: 1 / 16, tolerance: 1e-12,
    build: (e) => e.cast('x', FLOAT),
  }],
]);

suite('Where and Softmax', [
  ['Where, both branches, one broadcast', {
    inputs: { x: [2, 3], z: [3] },
    build: (e) => e.op('Where', [rawConstant(e, 9, Uint8Array.of(1, 0, 1, 0, 0, 1), [2, 3]), 'x', 'z']),
  }],
  ['Softmax on the last axis', { opset: 13, inputs: { x: [2, 3, 4] }, build: (e) => e.op('Softmax', ['x'], { axis: -1 }) }],
  ['Softmax on a middle axis', { opset: 13, inputs: { x: [2, 3, 4] }, build: (e) => e.op('Softmax', ['x'], { axis: 1 }) }],
]);

const matMul = (a: number[], b: number[]): Case => [`MatMul [${a}] @ [${b}]`, { inputs: { a, b }, build: (e) => e.op('MatMul', ['a', 'b']) }];

suite('MatMul and Gemm', [
  matMul([3, 4], [4, 5]),
  matMul([2, 3, 4], [2, 4, 5]),
  matMul([2, 3, 4], [4, 5]),
  matMul([2, 1, 3, 4], [3, 4, 5]),
  matMul([3, 4], [2, 4, 5]),
  ...[[0, 0, [5]], [1, 0, [3, 1]], [0, 1, [3, 5]], [1, 1, []]].map(([transA, transB, c]): Case => {
    const [ta, tb] = [transA as number, transB as number];
    return [`Gemm transA=${ta} transB=${tb} alpha=0.7 beta=1.3 C [${c}]`, {
      inputs: { a: ta ? [4, 3] : [3, 4], b: tb ? [5, 4] : [4, 5], c: c as number[] },
      build: (e) => e.op('Gemm', ['a', 'b', 'c'], { transA: ta, transB: tb, alpha: { float: 0.7 }, beta: { float: 1.3 } }),
    }];
  }),
  ['Gemm without C', { inputs: { a: [3, 4], b: [4, 5] }, build: (e) => e.op('Gemm', ['a', 'b']) }],
]);

/** Conv of x [1, 4, size, size] by a fixed 3x3 weight (float32: onnxruntime has no double Conv). */
function conv(title: string, size: number, attrs: { strides?: number[]; pads?: number[]; dilations?: number[]; group?: number }): Case {
  const group = attrs.group ?? 1;
  const weight = (e: Emitter) => e.constant(FLOAT, Array.from({ length: 6 * (4 / group) * 9 }, (_, i) => Math.sin(i * 0.7)), [6, 4 / group, 3, 3]);
  return [title, {
    dtype: FLOAT, inputs: { x: [1, 4, size, size] }, h: 0.1,
    build: (e) => e.op('Conv', ['x', weight(e), e.constant(FLOAT, [0.1, -0.2, 0.3, 0, 0.5, -1])], { kernel_shape: [3, 3], ...attrs }),
  }];
}

suite('Conv (data gradient)', [
  conv('stride 1, pad 1', 8, { pads: [1, 1, 1, 1] }),
  conv('stride 2, pad 1, even size (output_padding 1)', 8, { strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('stride 2, pad 1, odd size (output_padding 0)', 7, { strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('2 groups', 6, { pads: [1, 1, 1, 1], group: 2 }),
  conv('dilation 2, stride 2, pad 1', 8, { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2] }),
  conv('asymmetric pads, no padding at the end', 6, { strides: [2, 1], pads: [1, 0, 0, 1] }),
  ['1-D, auto_pad VALID, stride 3 (output_padding 2), kernel_shape from the weight', {
    dtype: FLOAT, inputs: { x: [2, 2, 11] }, h: 0.1,
    build: (e) => e.op('Conv', ['x', e.constant(FLOAT, [1, -2, 0.5, 0.3, 2, -1, 0.7, 0.1, -0.4, 1.1, 0.9, -0.6], [2, 2, 3])], { auto_pad: 'VALID', strides: [3] }),
  }],
]);

suite('normalisation', [
  ['InstanceNormalization', {
    dtype: FLOAT, h: 1e-3, inputs: { x: [2, 3, 4, 5] },
    build: (e) => e.op('InstanceNormalization', ['x', e.constant(FLOAT, [0.5, -1.5, 2]), e.constant(FLOAT, [0.1, 0.2, -0.3])], { epsilon: { float: 0.05 } }),
  }],
  ['LayerNormalization axis -1', {
    inputs: { x: [2, 3, 4] },
    build: (e, d) => e.op('LayerNormalization', ['x', e.constant(d, [0.5, -1.5, 2, 1]), e.constant(d, [0.1, 0.2, -0.3, 0])], { axis: -1, epsilon: { float: 1e-5 } }),
  }],
  ['LayerNormalization axis -2 (scale over two axes, no bias; Mean and InvStdDev outputs unused)', {
    inputs: { x: [2, 3, 4] },
    build: (e, d) => e.opN('LayerNormalization', ['x', e.constant(d, Array.from({ length: 12 }, (_, i) => 1 + Math.cos(i)), [3, 4])], 3, { axis: -2, epsilon: { float: 1e-3 } })[0],
  }],
]);

suite('layout', [
  ['Reshape', { inputs: { x: [2, 3, 4] }, build: (e) => e.reshape('x', [4, -1]) }],
  ['Flatten', { inputs: { x: [2, 3, 4] }, build: (e) => e.op('Flatten', ['x'], { axis: 2 }) }],
  ['Squeeze', { inputs: { x: [2, 1, 3] }, build: (e) => e.op('Squeeze', ['x', e.int64s([1])]) }],
  ['Unsqueeze', { inputs: { x: [2, 3] }, build: (e) => e.op('Unsqueeze', ['x', e.int64s([0, 2])]) }],
  ['Transpose with perm', { inputs: { x: [2, 3, 4] }, build: (e) => e.transpose('x', [2, 0, 1]) }],
  ['Transpose without perm (reversed axes)', { inputs: { x: [2, 3, 4] }, build: (e) => e.op('Transpose', ['x']) }],
  ['Expand', { inputs: { x: [3, 1] }, build: (e) => e.op('Expand', ['x', e.int64s([2, 3, 4])]) }],
  ['Slice: negative and clamped bounds', {
    inputs: { x: [4, 6] },
    build: (e) => e.op('Slice', ['x', e.int64s([-3, -100]), int64Max(e, [INT64_MAX, 5n]), e.int64s([0, 1])]),
  }],
  ['Slice: a subset of the axes, given negative', {
    inputs: { x: [3, 4, 5] },
    build: (e) => e.op('Slice', ['x', e.int64s([1]), e.int64s([3]), e.int64s([-1]), e.int64s([1])]),
  }],
  ['Slice: bounds computed at run time from Shape (read by the probe)', {
    inputs: { x: [4, 6] },
    build: (e) => {
      const end = e.op('Sub', [e.op('Shape', ['x'], { start: 1, end: 2 }), e.int64s([1])]);
      return e.op('Slice', ['x', e.int64s([2]), end, e.int64s([1])]);
    },
  }],
  ['Slice: int32 bounds, axes omitted', {
    inputs: { x: [4, 6] },
    build: (e) => e.op('Slice', ['x', rawConstant(e, DataType.INT32, Int32Array.of(1, 2), [2]), rawConstant(e, DataType.INT32, Int32Array.of(3, -1), [2])]),
  }],
  ['Concat with a constant part, one input twice', {
    inputs: { a: [2, 3], b: [2, 2] },
    build: (e, d) => e.op('Concat', ['a', e.constant(d, [1, 2], [2, 1]), 'b', 'a'], { axis: -1 }),
  }],
  ['Split, the middle output unused (zeros)', {
    inputs: { x: [2, 6] },
    build: (e) => {
      const [first, , last] = e.opN('Split', ['x', e.int64s([1, 2, 3])], 3, { axis: 1 });
      return [first, last];
    },
  }],
  ['Split, only the middle output used', {
    inputs: { x: [6, 2] },
    build: (e) => e.opN('Split', ['x', e.int64s([1, 2, 3])], 3)[1],
  }],
]);

const reduce = (op: string, opset: number, axes: number[] | undefined, keepdims: number): Case => [
  `${op} opset ${opset} axes [${axes ?? 'all'}] keepdims ${keepdims}`,
  {
    opset,
    inputs: { x: { shape: [2, 3, 4], values: op === 'ReduceProd' ? 'positive' : 'signed' } },
    build: (e) => (opset < 18 && op !== 'ReduceSum'
      ? e.op(op, ['x'], { axes, keepdims })
      : e.op(op, axes ? ['x', e.int64s(axes)] : ['x'], { keepdims })),
  },
];

/** x [2, 3] with two-way ties in columns 0 and 2; reduced over axis 0. */
const TIES = [1, 0.5, -1, 1, 0.25, -1];
/** x [3, 4] whose columns hold no, one, two and three exact zeros; reduced over axis 0. */
const ZEROS = [1.5, 0, 0, 0, -0.5, 1.25, 0.5, 0, 2, -0.75, 0, 0];

suite('reductions', [
  reduce('ReduceSum', 13, [1], 1),
  reduce('ReduceSum', 13, [-1, 0], 0),
  reduce('ReduceSum', 13, undefined, 0),
  reduce('ReduceMean', 17, [1], 1),
  reduce('ReduceMean', 17, [2, 0], 0),
  reduce('ReduceMean', 18, [-2], 0),
  ['ReduceSum with no axes and noop_with_empty_axes (an identity)', { inputs: { x: [2, 3] }, build: (e) => e.op('ReduceSum', ['x'], { noop_with_empty_axes: 1 }) }],
  ...['ReduceMax', 'ReduceMin', 'ReduceProd'].flatMap((op) => [
    reduce(op, 17, [1], 1),
    reduce(op, 17, [2, 0], 0),
    reduce(op, 18, [-1, 0], 0),
    reduce(op, 18, undefined, 1),
  ]),
  // Central differences at a two-way tie give each entry half of dy: the even split the rule takes.
  ...['ReduceMax', 'ReduceMin'].map((op): Case => [`${op} with two-way ties: dy split evenly`, {
    inputs: { x: { shape: [2, 3], values: TIES } }, build: (e) => e.op(op, ['x', e.int64s([0])], { keepdims: 0 }), opset: 18,
  }]),
  ['ReduceProd with exact zeros (none, one, two, three in a column)', {
    inputs: { x: { shape: [3, 4], values: ZEROS } }, build: (e) => e.op('ReduceProd', ['x'], { axes: [0], keepdims: 0 }),
  }],
]);

/** x2 nearest upsampling as PyTorch exports F.interpolate(scale_factor=2) (float32: no double Resize). */
const resize = (attrs: Record<string, string>): GraphCase => ({
  dtype: FLOAT, inputs: { x: [1, 2, 3, 4] }, h: 0.1,
  build: (e) => e.op('Resize', ['x', '', e.constant(FLOAT, [1, 1, 2, 2])], attrs),
});
const PYTORCH_NEAREST = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };

suite('Resize', [
  ['nearest x2, asymmetric/floor (PyTorch)', resize(PYTORCH_NEAREST)],
  ['nearest x2, half_pixel/round_prefer_floor (the default)', resize({ mode: 'nearest' })],
  ['nearest x2 by sizes', {
    dtype: FLOAT, inputs: { x: [1, 2, 3, 4] }, h: 0.1,
    build: (e) => e.op('Resize', ['x', '', '', e.int64s([1, 2, 6, 8])], PYTORCH_NEAREST),
  }],
]);

suite('two-node chains', [
  ['Tanh(x @ W) + x (x read by two nodes)', {
    inputs: { x: [2, 3, 4] },
    build: (e, d) => e.op('Add', [e.op('Tanh', [e.op('MatMul', ['x', e.constant(d, Array.from({ length: 16 }, (_, i) => Math.sin(i)), [4, 4])])]), 'x']),
  }],
  ['Relu then Softmax', { opset: 13, inputs: { x: { shape: [3, 4], values: 'apart' } }, build: (e) => e.op('Softmax', [e.op('Relu', ['x'])], { axis: 0 }) }],
  ['leaky relu as Where(x > 0, x, 0.1 x) (the condition off the path)', {
    inputs: { x: { shape: [3, 4], values: 'apart' } },
    build: (e, d) => e.op('Where', [e.op('Greater', ['x', e.scalar(0, d)]), 'x', e.op('Mul', ['x', e.scalar(0.1, d)])]),
  }],
  ['seeds on a tensor and on its consumer (the seed gradients add up)', {
    inputs: { x: [2, 3] },
    build: (e) => {
      const h = e.op('Sigmoid', ['x']);
      return [h, e.op('Softmax', [h], { axis: -1 })];
    },
  }],
]);

describe('what the differentiator refuses, and inputs it does not reach', () => {
  const refuses = (title: string, c: GraphCase, message: RegExp) => test(title, () => assert.rejects(gradientOf(c), message));

  refuses('TopK between the input and the seed', {
    inputs: { x: [2, 5] }, build: (e) => e.op('Relu', [e.opN('TopK', ['x', e.int64s([2])], 2)[0]]),
  }, /no gradient rule for TopK \(node "test\/TopK"\)/);
  refuses('Hardmax between the input and the seed', {
    inputs: { x: [2, 5] }, build: (e) => e.op('Mul', [e.op('Hardmax', ['x']), 'x']),
  }, /no gradient rule for Hardmax \(node "test\/Hardmax"\)/);
  refuses('a gradient with respect to a convolution weight', {
    dtype: FLOAT, inputs: { x: [1, 2, 5, 5], w: [3, 2, 3, 3] }, build: (e) => e.op('Conv', ['x', 'w']),
  }, /Conv node "test\/Conv": gradients of convolution weights are not supported/);
  refuses('Slice with step 2', {
    inputs: { x: [6] }, build: (e) => e.op('Slice', ['x', e.int64s([0]), e.int64s([6]), e.int64s([0]), e.int64s([2])]),
  }, /Slice node "test\/Slice": Slice with steps 2 is not supported/);
  refuses('Resize in linear mode', resize({ mode: 'linear' }), /Resize node "test\/Resize": Resize mode linear is not supported/);
  refuses('nearest Resize that does not copy aligned blocks (asymmetric/ceil)', resize({ ...PYTORCH_NEAREST, nearest_mode: 'ceil' }),
    /Resize node "test\/Resize": Resize with asymmetric\/ceil does not copy whole blocks/);
  refuses('nearest downsampling', {
    dtype: FLOAT, inputs: { x: [1, 1, 4, 4] }, build: (e) => e.op('Resize', ['x', '', e.constant(FLOAT, [1, 1, 0.5, 0.5])], PYTORCH_NEAREST),
  }, /Resize node "test\/Resize": Resize by 0.5 on axis 2 is not supported/);
  refuses('the tanh approximation of Gelu', {
    dtype: FLOAT, opset: 20, inputs: { x: [4] }, build: (e) => e.op('Gelu', ['x'], { approximate: 'tanh' }),
  }, /Gelu node "test\/Gelu": only the exact \(erf\) Gelu is differentiated/);
  refuses('a gradient with respect to the exponent of Pow', {
    inputs: { x: { shape: [3], values: 'positive' }, p: [3] }, build: (e) => e.op('Pow', ['x', 'p']),
  }, /Pow node "test\/Pow": the gradient with respect to the exponent is not supported/);
  refuses('a 1-D MatMul operand', {
    inputs: { a: [2, 3], b: [3] }, build: (e) => e.op('MatMul', ['a', 'b']),
  }, /MatMul node "test\/MatMul": a 1-D MatMul operand is not supported/);
  refuses('Conv with auto_pad SAME_UPPER', {
    dtype: FLOAT, inputs: { x: [1, 1, 4, 4] }, build: (e) => e.op('Conv', ['x', e.constant(FLOAT, Array(9).fill(1), [1, 1, 3, 3])], { auto_pad: 'SAME_UPPER' }),
  }, /Conv node "test\/Conv": auto_pad SAME_UPPER is not supported/);
  refuses('a model before opset 13', { opset: 12, inputs: { x: [3] }, build: (e) => e.op('Neg', ['x']) }, /opset 12; differentiating it needs opset 13/);
  refuses('no requested input reaches a seed', {
    inputs: { x: [3], z: [3] }, wrt: ['z'], build: (e) => e.op('Neg', ['x']),
  }, /none of the inputs reaches/);

  test('an input with no path to a seed is listed in unreached (and gets no gradient output)', async (t) => {
    const { gradient, worst } = await checkGradient({
      inputs: { x: [3], z: [3] },
      build: (e) => {
        e.op('Neg', ['z']); // read, but not on the way to the seed
        return e.op('Exp', ['x']);
      },
    });
    assert.deepEqual(gradient.unreached, ['z']);
    assert.deepEqual([...gradient.gradOutputs.keys()], ['x']);
    t.diagnostic(`worst relative error ${worst.toExponential(1)}`);
  });
});
