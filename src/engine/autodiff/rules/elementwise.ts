/** Elementwise ops: broadcasting binaries reduce their gradient back to each operand's shape. */
import { attrInt } from '../../onnx/graph';
import type { GradientRule, RuleContext } from './types';

type Local = (c: RuleContext, dy: string) => string;

/** A binary op from each operand's local gradient (of the output's shape), unbroadcast per operand. */
function binary(da: Local, db: Local): GradientRule {
  return {
    grad(c) {
      const dy = c.dy() as string;
      const outShape = c.shape(c.output(0));
      return [da, db].map((local, i) => (c.needs(i) ? c.e.unbroadcast(local(c, dy), outShape, c.shape(c.input(i))) : undefined));
    },
  };
}

/** A unary op whose input gradient is `dy` times a local factor. */
function unary(local: Local): GradientRule {
  return { grad: (c) => [local(c, c.dy() as string)] };
}

const y = (c: RuleContext) => c.output(0);
const x = (c: RuleContext) => c.input(0);
const scalar = (c: RuleContext, v: number) => c.e.scalar(v, c.dtype(c.output(0)));

export const elementwiseRules: Record<string, GradientRule> = {
  Add: binary((_, dy) => dy, (_, dy) => dy),
  Sub: binary((_, dy) => dy, (c, dy) => c.e.op('Neg', [dy])),
  Mul: binary((c, dy) => c.e.op('Mul', [dy, c.input(1)]), (c, dy) => c.e.op('Mul', [dy, c.input(0)])),
  // y = a / b: da = dy / b, db = -dy * y / b.
  Div: binary(
    (c, dy) => c.e.op('Div', [dy, c.input(1)]),
    (c, dy) => c.e.op('Neg', [c.e.op('Div', [c.e.op('Mul', [dy, y(c)]), c.input(1)])]),
  ),
  Pow: {
    grad(c) {
      if (c.needs(1)) c.fail('the gradient with respect to the exponent is not supported');
      // d(a^p)/da = p a^(p-1); the exponent may have its own element type.
      const p = c.e.cast(c.input(1), c.dtype(c.output(0)));
      const local = c.e.op('Mul', [p, c.e.op('Pow', [c.input(0), c.e.op('Sub', [p, scalar(c, 1)])])]);
      const dy = c.dy() as string;
      return [c.e.unbroadcast(c.e.op('Mul', [dy, local]), c.shape(y(c)), c.shape(x(c)))];
    },
  },
  Neg: unary((c, dy) => c.e.op('Neg', [dy])),
  Sqrt: unary((c, dy) => c.e.op('Div', [c.e.op('Mul', [dy, scalar(c, 0.5)]), y(c)])),
  Reciprocal: unary((c, dy) => c.e.op('Neg', [c.e.op('Mul', [dy, c.e.op('Mul', [y(c), y(c)])])])),
  Exp: unary((c, dy) => c.e.op('Mul', [dy, y(c)])),
  Log: unary((c, dy) => c.e.op('Div', [dy, x(c)])),
  Sigmoid: unary((c, dy) => c.e.op('Mul', [dy, c.e.op('Mul', [y(c), c.e.op('Sub', [scalar(c, 1), y(c)])])])),
  Tanh: unary((c, dy) => c.e.op('Mul', [dy, c.e.op('Sub', [scalar(c, 1), c.e.op('Mul', [y(c), y(c)])])])),
  // d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
  Erf: unary((c, dy) => {
    const gauss = c.e.op('Exp', [c.e.op('Neg', [c.e.op('Mul', [x(c), x(c)])])]);
    return c.e.op('Mul', [dy, c.e.op('Mul', [gauss, scalar(c, 2 / Math.sqrt(Math.PI))])]);
  }),
  Relu: unary((c, dy) => c.e.op('Where', [c.e.op('Greater', [x(c), scalar(c, 0)]), dy, scalar(c, 0)])),
  // Exact GELU: d/dx x Phi(x) = Phi(x) + x phi(x); the tanh form is not differentiated here.
  Gelu: unary((c, dy) => {
    const approximate = c.node.attribute?.find((a) => a.name === 'approximate');
    if (approximate?.s && new TextDecoder().decode(approximate.s) !== 'none') c.fail('only the exact (erf) Gelu is differentiated');
    const half = scalar(c, 0.5);
    const cdf = c.e.op('Mul', [half, c.e.op('Add', [scalar(c, 1), c.e.op('Erf', [c.e.op('Mul', [x(c), scalar(c, Math.SQRT1_2)])])])]);
    const pdf = c.e.op('Mul', [c.e.op('Exp', [c.e.op('Mul', [c.e.op('Mul', [x(c), x(c)]), scalar(c, -0.5)])]), scalar(c, 1 / Math.sqrt(2 * Math.PI))]);
    return c.e.op('Mul', [dy, c.e.op('Add', [cdf, c.e.op('Mul', [x(c), pdf])])]);
  }),
  Identity: unary((_, dy) => dy),
  // Inference graphs keep Dropout as an identity (its mask output carries no gradient).
  Dropout: unary((_, dy) => dy),
  Cast: unary((c, dy) => (c.dtype(x(c)) === c.dtype(y(c)) ? dy : c.e.cast(dy, c.dtype(x(c))))),
  Where: {
    grad(c) {
      if (c.needs(0)) c.fail('the condition of Where carries no gradient');
      const dy = c.dy() as string;
      const zero = scalar(c, 0);
      const outShape = c.shape(y(c));
      const pick = (i: number, branch: string[]) => c.e.unbroadcast(c.e.op('Where', [c.input(0), ...branch]), outShape, c.shape(c.input(i)));
      return [undefined, c.needs(1) ? pick(1, [dy, zero]) : undefined, c.needs(2) ? pick(2, [zero, dy]) : undefined];
    },
  },
  // Softmax along one axis (opset 13+, which the gradient model requires): dx = y (dy - sum(dy y)).
  Softmax: {
    grad(c) {
      const rank = c.shape(y(c)).length;
      const axis = attrInt(c.node, 'axis') ?? -1;
      const dy = c.dy() as string;
      const dot = c.e.reduceSum(c.e.op('Mul', [dy, y(c)]), [(axis + rank) % rank], true);
      return [c.e.op('Mul', [y(c), c.e.op('Sub', [dy, dot])])];
    },
  },
};
