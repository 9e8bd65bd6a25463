/**
 * Reduce* ops. Their axes are an attribute before opset 18 (ReduceSum: before opset 13) and an input from then on;
 * without axes they reduce every axis, or none with noop_with_empty_axes (an identity). Each rule takes dy (and the
 * output) back to the input's rank, the reduced axes kept as size 1, and spreads it over those axes.
 */
import { attrInt, attrInts } from '../../onnx/graph';
import { sameShape } from '../emitter';
import type { GradientRule, RuleContext } from './types';

interface Reduced {
  /** The reduced axes, non-negative. */
  axes: number[];
  /** The input's shape. */
  shape: number[];
  /** dy at the input's rank. */
  dy: string;
  /** A tensor of the output's shape, at the input's rank. */
  atRank(t: string): string;
}

function reductionRule(local: (c: RuleContext, r: Reduced) => string): GradientRule {
  return {
    intInputs: [1],
    grad(c) {
      const shape = c.shape(c.input(0));
      const axesIn = attrInts(c.node, 'axes') ?? (c.input(1) ? c.ints(c.input(1)) : []);
      if (axesIn.length === 0 && attrInt(c.node, 'noop_with_empty_axes') === 1) return [c.dy() as string];
      const axes = axesIn.length ? axesIn.map((a) => (a < 0 ? a + shape.length : a)) : shape.map((_, i) => i);
      const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const atRank = (t: string) => (sameShape(kept, c.shape(c.output(0))) ? t : c.e.reshape(t, kept));
      return [local(c, { axes, shape, dy: atRank(c.dy() as string), atRank })];
    },
  };
}

/** Sum and mean: dy repeated over the reduced axes (divided by their size for the mean). */
function repeated(mean: boolean): GradientRule {
  return reductionRule((c, { axes, shape, dy }) => {
    const n = axes.reduce((p, a) => p * shape[a], 1);
    const scaled = mean ? c.e.op('Mul', [dy, c.e.scalar(1 / n, c.dtype(c.output(0)))]) : dy;
    return c.e.op('Expand', [scaled, c.e.int64s(shape)]);
  });
}

/**
 * Max and min: dy goes to the entries equal to the result. Ties share it evenly (each of n tied entries gets dy/n),
 * as PyTorch's amax/amin do: at a tie the function has no derivative, and the even split is the subgradient that
 * does not depend on the order of the entries (at a two-way tie it is also what central differences measure).
 */
const extremum = reductionRule((c, { axes, dy, atRank }) => {
  const x = c.input(0);
  const hit = c.e.cast(c.e.op('Equal', [x, atRank(c.output(0))]), c.dtype(x));
  const count = c.e.reduceSum(hit, axes, true);
  return c.e.op('Mul', [hit, c.e.op('Div', [dy, count])]);
});

/**
 * Product: each entry's derivative is the product of the others, computed as P'/x' where the zeros are replaced by
 * ones (x' = x + [x == 0], P' = prod x'), and kept only where none of the others is zero. The S&E loss multiplies
 * means of softmax probabilities, > 0, where dy * P / x would do; but one that underflows (a float16 model) is an
 * exact 0, and P / x would then put 0/0 = NaN into every gradient, since NaN * 0 is NaN.
 */
const product = reductionRule((c, { axes, dy }) => {
  const x = c.input(0);
  const dtype = c.dtype(x);
  const zero = c.e.cast(c.e.op('Equal', [x, c.e.scalar(0, dtype)]), dtype);
  const ones = c.e.op('Add', [x, zero]);
  const others = c.e.op('Div', [c.e.reduce('ReduceProd', ones, axes, true), ones]);
  const zerosElsewhere = c.e.op('Sub', [c.e.reduceSum(zero, axes, true), zero]);
  const kept = c.e.op('Where', [c.e.op('Equal', [zerosElsewhere, c.e.scalar(0, dtype)]), others, c.e.scalar(0, dtype)]);
  return c.e.op('Mul', [dy, kept]);
});

export const reductionRules: Record<string, GradientRule> = {
  ReduceSum: repeated(false),
  ReduceMean: repeated(true),
  ReduceMax: extremum,
  ReduceMin: extremum,
  ReduceProd: product,
};
