/**
 * InstanceNormalization (the exports' GroupNorm: Reshape + InstanceNormalization + affine) and LayerNormalization.
 * Both normalise x over some axes to xhat = (x - mean) r, r = 1/sqrt(var + eps), and scale it; with g = dy * scale,
 *   dx = r (g - mean(g) - xhat mean(g xhat))
 * over the same axes. The statistics are recomputed from x, not read from the forward.
 */
import { attrFloat, attrInt } from '../../onnx/graph';
import type { GradientRule, RuleContext } from './types';

function normalisedGrad(c: RuleContext, axes: number[], scaleBroadcast: string, epsilon: number): string {
  const e = c.e;
  const x = c.input(0);
  const shape = c.shape(x);
  const dtype = c.dtype(x);
  const mean = (t: string) => e.reduceMean(t, shape, axes, dtype);
  const centred = e.op('Sub', [x, mean(x)]);
  const variance = mean(e.op('Mul', [centred, centred]));
  const r = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.scalar(epsilon, dtype)])])]);
  const xhat = e.op('Mul', [centred, r]);
  const g = e.op('Mul', [c.dy() as string, scaleBroadcast]);
  const inner = e.op('Sub', [e.op('Sub', [g, mean(g)]), e.op('Mul', [xhat, mean(e.op('Mul', [g, xhat]))])]);
  return e.op('Mul', [r, inner]);
}

const instanceNormalization: GradientRule = {
  grad(c) {
    if (c.needs(1) || c.needs(2)) c.fail('gradients of the normalisation scale and bias are not supported');
    const shape = c.shape(c.input(0));
    // scale [C] against x [N, C, ...]
    const scale = c.e.reshape(c.input(1), [1, shape[1], ...shape.slice(2).map(() => 1)]);
    const axes = shape.slice(2).map((_, i) => i + 2);
    return [normalisedGrad(c, axes, scale, attrFloat(c.node, 'epsilon') ?? 1e-5), undefined, undefined];
  },
};

const layerNormalization: GradientRule = {
  grad(c) {
    if (c.needs(1) || (c.input(2) && c.needs(2))) c.fail('gradients of the normalisation scale and bias are not supported');
    if (c.dy(1) || c.dy(2)) c.fail('gradients through the Mean and InvStdDev outputs are not supported');
    const rank = c.shape(c.input(0)).length;
    const axisIn = attrInt(c.node, 'axis') ?? -1;
    const axis = axisIn < 0 ? axisIn + rank : axisIn;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    // The scale broadcasts against the normalised axes from the right, as in the forward.
    return [normalisedGrad(c, axes, c.input(1), attrFloat(c.node, 'epsilon') ?? 1e-5), undefined, undefined];
  },
};

export const normalizationRules: Record<string, GradientRule> = {
  InstanceNormalization: instanceNormalization,
  LayerNormalization: layerNormalization,
};
