/** MatMul, Gemm and Conv: the products of the UNet, differentiated as in onnxruntime's gradient builder. */
import { attrFloat, attrInt, attrInts, attrString } from '../../onnx/graph';
import type { GradientRule, RuleContext } from './types';

/** y = a @ b with numpy broadcasting of the batch axes; vectors (rank 1) are not supported. */
const matMul: GradientRule = {
  grad(c) {
    const [a, b] = [c.input(0), c.input(1)];
    const [sa, sb, sy] = [c.shape(a), c.shape(b), c.shape(c.output(0))];
    if (sa.length < 2 || sb.length < 2) c.fail('a 1-D MatMul operand is not supported');
    const dy = c.dy() as string;
    return [c.needs(0) ? productGrad(c, dy, sy, b, sb, 'left', sa) : undefined, c.needs(1) ? productGrad(c, dy, sy, a, sa, 'right', sb) : undefined];
  },
};

/**
 * da = dy @ b^T (side 'left') or db = a^T @ dy (side 'right'), reduced to the operand's shape. A 2-D
 * weight against a batched operand (x @ W, the common case) folds the batch into the rows, so no
 * batched product and no reduction is needed.
 */
function productGrad(c: RuleContext, dy: string, sy: number[], other: string, so: number[], side: 'left' | 'right', target: number[]): string {
  const e = c.e;
  if (side === 'right' && target.length === 2 && sy.length > 2) {
    const rows = sy.slice(0, -1).reduce((p, d) => p * d, 1);
    const a2 = e.reshape(other, [rows, so[so.length - 1]]);
    return e.op('MatMul', [e.transpose(a2, [1, 0]), e.reshape(dy, [rows, sy[sy.length - 1]])]);
  }
  const otherT = e.transposeLast2(other, so.length);
  const product = side === 'left' ? e.op('MatMul', [dy, otherT]) : e.op('MatMul', [otherT, dy]);
  const productShape = broadcastBatch(sy, so).concat(side === 'left' ? [sy[sy.length - 2], so[so.length - 2]] : [so[so.length - 1], sy[sy.length - 1]]);
  return e.unbroadcast(product, productShape, target);
}

/** The broadcast batch axes of two MatMul operands. */
function broadcastBatch(a: number[], b: number[]): number[] {
  const ba = a.slice(0, -2);
  const bb = b.slice(0, -2);
  const n = Math.max(ba.length, bb.length);
  return Array.from({ length: n }, (_, i) => {
    const da = ba[i - (n - ba.length)] ?? 1;
    const db = bb[i - (n - bb.length)] ?? 1;
    return Math.max(da, db);
  });
}

/** y = alpha op(a) op(b) + beta c, op = optional transpose; a and b are 2-D. */
const gemm: GradientRule = {
  grad(c) {
    const e = c.e;
    const dy = c.dy() as string;
    const alpha = attrFloat(c.node, 'alpha') ?? 1;
    const beta = attrFloat(c.node, 'beta') ?? 1;
    const transA = attrInt(c.node, 'transA') ?? 0;
    const transB = attrInt(c.node, 'transB') ?? 0;
    const dtype = c.dtype(c.output(0));
    const scaled = (t: string, s: number) => (s === 1 ? t : e.op('Mul', [t, e.scalar(s, dtype)]));
    const [a, b] = [c.input(0), c.input(1)];
    // op(a) = dy op(b)^T, op(b) = op(a)^T dy; undo each op's transpose on the way back.
    const da = () => {
      const opA = e.op('Gemm', [dy, b], { transB: transB ? 0 : 1 });
      return scaled(transA ? e.transpose(opA, [1, 0]) : opA, alpha);
    };
    const db = () => {
      const opB = e.op('Gemm', [a, dy], { transA: transA ? 0 : 1 });
      return scaled(transB ? e.transpose(opB, [1, 0]) : opB, alpha);
    };
    const dc = () => e.unbroadcast(scaled(dy, beta), c.shape(c.output(0)), c.shape(c.input(2)));
    return [c.needs(0) ? da() : undefined, c.needs(1) ? db() : undefined, c.input(2) && c.needs(2) ? dc() : undefined];
  },
};

/** The data gradient of a convolution is the transposed convolution with the same weight. */
const conv: GradientRule = {
  grad(c) {
    if (c.needs(1) || (c.input(2) && c.needs(2))) c.fail('gradients of convolution weights are not supported (only of the data)');
    const autoPad = attrString(c.node, 'auto_pad') ?? 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') c.fail(`auto_pad ${autoPad} is not supported`);
    const sx = c.shape(c.input(0));
    const sw = c.shape(c.input(1));
    const sy = c.shape(c.output(0));
    const spatial = sx.length - 2;
    const kernel = attrInts(c.node, 'kernel_shape') ?? sw.slice(2);
    const strides = attrInts(c.node, 'strides') ?? Array(spatial).fill(1);
    const dilations = attrInts(c.node, 'dilations') ?? Array(spatial).fill(1);
    const pads = autoPad === 'VALID' ? Array(2 * spatial).fill(0) : attrInts(c.node, 'pads') ?? Array(2 * spatial).fill(0);
    const group = attrInt(c.node, 'group') ?? 1;
    // A strided conv drops trailing input rows; output_padding gives them back (with zero gradient).
    const outputPadding = kernel.map((k, i) => sx[i + 2] - (strides[i] * (sy[i + 2] - 1) + (k - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]));
    if (outputPadding.some((p, i) => p < 0 || p >= Math.max(strides[i], dilations[i]))) c.fail(`cannot invert the convolution's geometry (output padding ${outputPadding})`);
    const dx = c.e.op('ConvTranspose', [c.dy() as string, c.input(1)], {
      dilations, group, kernel_shape: kernel, pads, strides, output_padding: outputPadding.some((p) => p) ? outputPadding : undefined,
    });
    return [dx, undefined, undefined];
  },
};

export const linearRules: Record<string, GradientRule> = { MatMul: matMul, Gemm: gemm, Conv: conv };
