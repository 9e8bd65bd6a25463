/** Ops that move, cut, join or repeat values: their gradients move them back. */
import { attrInt, attrInts, attrString } from '../../onnx/graph';
import type { GradientRule } from './types';

/** Any op that only reinterprets the shape: the gradient takes the input's shape back. */
const reshapeBack: GradientRule = { grad: (c) => [c.e.reshape(c.dy() as string, c.shape(c.input(0)))] };

const transpose: GradientRule = {
  grad(c) {
    const rank = c.shape(c.input(0)).length;
    const perm = attrInts(c.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [c.e.transpose(c.dy() as string, inverse)];
  },
};

const expand: GradientRule = {
  grad: (c) => [c.e.unbroadcast(c.dy() as string, c.shape(c.output(0)), c.shape(c.input(0)))],
};

/** Slice (unit steps): the gradient is dy padded with zeros back to the input's extent. */
const slice: GradientRule = {
  intInputs: [1, 2, 3, 4],
  grad(c) {
    const shape = c.shape(c.input(0));
    const rank = shape.length;
    const starts = c.ints(c.input(1));
    const ends = c.ints(c.input(2));
    const axes = c.input(3) ? c.ints(c.input(3)) : starts.map((_, i) => i);
    const steps = c.input(4) ? c.ints(c.input(4)) : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) c.fail(`Slice with steps ${steps} is not supported (only unit steps)`);
    const pads = new Array<number>(2 * rank).fill(0);
    axes.forEach((axisIn, i) => {
      const axis = axisIn < 0 ? axisIn + rank : axisIn;
      const dim = shape[axis];
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      const start = clamp(starts[i]);
      const end = Math.max(start, clamp(ends[i]));
      pads[axis] = start;
      pads[axis + rank] = dim - end;
    });
    const dy = c.dy() as string;
    return [pads.every((p) => p === 0) ? dy : c.e.op('Pad', [dy, c.e.int64s(pads)])];
  },
};

const concat: GradientRule = {
  grad(c) {
    const n = c.node.input?.length ?? 0;
    const rank = c.shape(c.output(0)).length;
    const axisIn = attrInt(c.node, 'axis') as number;
    const axis = axisIn < 0 ? axisIn + rank : axisIn;
    const sizes = Array.from({ length: n }, (_, i) => c.shape(c.input(i))[axis]);
    const parts = c.e.opN('Split', [c.dy() as string, c.e.int64s(sizes)], n, { axis });
    return parts.map((p, i) => (c.needs(i) ? p : undefined));
  },
};

/** Split: the gradient joins the outputs' gradients, with zeros for outputs that get none. */
const split: GradientRule = {
  grad(c) {
    const outputs = c.node.output ?? [];
    const rank = c.shape(c.input(0)).length;
    const axisIn = attrInt(c.node, 'axis') ?? 0;
    const axis = axisIn < 0 ? axisIn + rank : axisIn;
    const dtype = c.dtype(c.input(0));
    const parts = outputs.map((o, k) => c.dy(k) ?? c.e.op('Expand', [c.e.scalar(0, dtype), c.e.int64s(c.shape(o))]));
    return [c.e.op('Concat', parts, { axis })];
  },
};

/**
 * Nearest-neighbour Resize by integer factors. The rule works out, with the op's own coordinate rules, which
 * input cell every output cell copies; when each input cell is copied into one aligned block (the 2x upsampling
 * of diffusers' exports), the gradient sums each block. Anything else fails with the node's name.
 */
const resize: GradientRule = {
  grad(c) {
    const mode = attrString(c.node, 'mode') ?? 'nearest';
    if (mode !== 'nearest') c.fail(`Resize mode ${mode} is not supported (only nearest)`);
    const ctm = attrString(c.node, 'coordinate_transformation_mode') ?? 'half_pixel';
    const nearest = attrString(c.node, 'nearest_mode') ?? 'round_prefer_floor';
    const sx = c.shape(c.input(0));
    const sy = c.shape(c.output(0));
    const factors = sx.map((d, i) => sy[i] / d);
    factors.forEach((f, i) => {
      if (!Number.isInteger(f)) c.fail(`Resize by ${f} on axis ${i} is not supported (only integer upsampling)`);
      for (let o = 0; o < sy[i]; o++) {
        let source = -1;
        try {
          source = nearestSource(o, f, sx[i], sy[i], ctm, nearest);
        } catch (err) {
          c.fail((err as Error).message);
        }
        if (source !== Math.floor(o / f)) c.fail(`Resize with ${ctm}/${nearest} does not copy whole blocks`);
      }
    });
    // [.., d*f, ..] -> [.., d, f, ..], summed over every f axis.
    const split = sx.flatMap((d, i) => [d, factors[i]]);
    const summed = c.e.reduceSum(c.e.reshape(c.dy() as string, split), sx.map((_, i) => 2 * i + 1), false);
    return [summed, undefined, undefined, undefined];
  },
};

/** The input index a nearest Resize reads for output index `o` (ONNX's coordinate transformation and rounding). */
export function nearestSource(o: number, scale: number, inLen: number, outLen: number, ctm: string, nearest: string): number {
  let x: number;
  switch (ctm) {
    case 'asymmetric': x = o / scale; break;
    case 'half_pixel': x = (o + 0.5) / scale - 0.5; break;
    case 'pytorch_half_pixel': x = outLen > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
    case 'align_corners': x = outLen > 1 ? (o * (inLen - 1)) / (outLen - 1) : 0; break;
    default: throw new Error(`coordinate_transformation_mode ${ctm} is not supported`);
  }
  let i: number;
  switch (nearest) {
    case 'floor': i = Math.floor(x); break;
    case 'ceil': i = Math.ceil(x); break;
    case 'round_prefer_floor': i = x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x); break;
    case 'round_prefer_ceil': i = x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x); break;
    default: throw new Error(`nearest_mode ${nearest} is not supported`);
  }
  return Math.min(Math.max(i, 0), inLen - 1);
}

export const layoutRules: Record<string, GradientRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Expand: expand,
  Slice: slice,
  Concat: concat,
  Split: split,
  Resize: resize,
};

