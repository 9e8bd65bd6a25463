// Operator names of the two profilers (onnxruntime's op types, PyTorch's aten operators) in common classes, so
// a UNet call's time can be compared class by class: where one engine is faster, and what bounds a speed-up.

export const OP_CLASSES = ['convolution', 'matrix products', 'normalization', 'activations', 'softmax', 'copies, reshapes and elementwise'] as const;
export type OpClass = (typeof OP_CLASSES)[number];

/**
 * onnxruntime's CPU op types. ReorderInput/ReorderOutput convert to and from the blocked layout its convolutions
 * run in (NCHWc), so they count as convolution; GroupNorm is exported as InstanceNormalization between reshapes.
 */
const ORT: Record<string, OpClass> = {
  Conv: 'convolution',
  FusedConv: 'convolution',
  ReorderInput: 'convolution',
  ReorderOutput: 'convolution',
  MatMul: 'matrix products',
  FusedMatMul: 'matrix products',
  Gemm: 'matrix products',
  FusedGemm: 'matrix products',
  InstanceNormalization: 'normalization',
  LayerNormalization: 'normalization',
  GroupNormalization: 'normalization',
  SkipLayerNormalization: 'normalization',
  Gelu: 'activations',
  FastGelu: 'activations',
  BiasGelu: 'activations',
  QuickGelu: 'activations',
  Sigmoid: 'activations',
  Erf: 'activations',
  Tanh: 'activations',
  Softmax: 'softmax',
};

/** PyTorch's aten operators, by self time: the wrappers above a kernel (conv2d, linear, matmul) fall in the last class. */
const ATEN: Record<string, OpClass> = {
  'aten::mkldnn_convolution': 'convolution',
  'aten::thnn_conv2d': 'convolution',
  'aten::_slow_conv2d_forward': 'convolution',
  'aten::addmm': 'matrix products',
  'aten::mm': 'matrix products',
  'aten::bmm': 'matrix products',
  'aten::baddbmm': 'matrix products',
  'aten::native_group_norm': 'normalization',
  'aten::native_layer_norm': 'normalization',
  'aten::gelu': 'activations',
  'aten::silu': 'activations',
  'aten::sigmoid': 'activations',
  'aten::_softmax': 'softmax',
};

export function ortOpClass(opType: string): OpClass {
  return ORT[opType] ?? 'copies, reshapes and elementwise';
}

export function atenOpClass(name: string): OpClass {
  return ATEN[name] ?? 'copies, reshapes and elementwise';
}

/** Milliseconds per class: `times` maps an operator name to its ms, `classOf` names its class. */
export function byClass(times: Iterable<[string, number]>, classOf: (op: string) => OpClass): Record<OpClass, number> {
  const sums = Object.fromEntries(OP_CLASSES.map((c) => [c, 0])) as Record<OpClass, number>;
  for (const [op, ms] of times) sums[classOf(op)] += ms;
  return sums;
}

/** One onnxruntime profile event (its JSON trace): node kernel times carry their op type. */
interface OrtProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Kernel ms per op type and call from onnxruntime's profile of `calls` runs (its events' `dur` are microseconds). */
export function ortKernelTimes(events: readonly OrtProfileEvent[], calls: number): Map<string, number> {
  const times = new Map<string, number>();
  for (const e of events) {
    const op = e.args?.op_name;
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !op) continue;
    times.set(op, (times.get(op) ?? 0) + (e.dur ?? 0) / 1000 / calls);
  }
  return times;
}
