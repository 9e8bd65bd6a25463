/**
 * Finds cross-attention by structure: Softmax <- (Mul/Div/Add/Reshape/Transpose/Cast)* <- MatMul(queries, keys^T),
 * where the keys come (through Reshape/Transpose) from MatMul(encoder_hidden_states, W_k^T) with W_k an initializer.
 * Names and op patterns of any particular exporter are not relied on; names only label the layers afterwards.
 */
import { GraphIndex } from './graph';
import type { NodeProto } from './proto';
import { smallConstant } from './tensorData';

export interface AttentionMatch {
  softmax: NodeProto;
  /** Softmax output: [B*heads, Nq, Ntok] (heads folded into the batch) or [B, heads, Nq, Ntok]. */
  probs: string;
  /** Queries as they enter the score MatMul, before any constant scale: same leading layout as probs, last dim d_head. */
  query: string;
  /** The node whose input `keyInputIndex` reads the key weight initializer; rewiring it swaps the weight. */
  keyConsumer: NodeProto;
  keyInputIndex: number;
  keyWeight: string;
  /** True when the initializer is W_k^T [textDim, innerDim] (torch's MatMul export), false for torch's own [innerDim, textDim]. */
  keyTransposed: boolean;
  keyProjection: NodeProto;
  valueWeight?: string;
  /** Product of the constant factors between q/k and the Softmax (1/sqrt(d_head) in a standard export). */
  scale?: number;
  /** heads and d_head read from a constant [B, N, heads, d_head] Reshape on the key path, when present. */
  reshapeHeads?: number;
  reshapeHeadDim?: number;
}

export interface AttentionScan {
  matches: AttentionMatch[];
  softmaxCount: number;
  /** Fused attention nodes (contrib MultiHeadAttention/Attention, opset-23 Attention) that hide the probabilities. */
  fused: NodeProto[];
}

const PASS_UNARY = new Set(['Reshape', 'Transpose', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Dropout']);
const PASS_SCORE = new Set([...PASS_UNARY, 'Mul', 'Div', 'Add', 'Sub', 'Where']);
const MAX_DEPTH = 12;

interface Found { node: NodeProto; path: NodeProto[] }

export function scanAttention(index: GraphIndex, textInput: string): AttentionScan {
  const nodes = index.graph.node ?? [];
  const fused = nodes.filter((n) => (n.domain === 'com.microsoft' && /Attention/.test(n.opType ?? '')) || (!n.domain && n.opType === 'Attention'));
  const softmaxes = nodes.filter((n) => n.opType === 'Softmax' && (!n.domain || n.domain === 'ai.onnx'));
  const matches: AttentionMatch[] = [];
  for (const softmax of softmaxes) {
    const m = matchSoftmax(index, softmax, textInput);
    if (m) matches.push(m);
  }
  return { matches, softmaxCount: softmaxes.length, fused };
}

/** Inputs of a pass-through node that carry the data (not constants, shapes or conditions). */
function dataInputs(index: GraphIndex, node: NodeProto): string[] {
  const ins = node.input ?? [];
  if (PASS_UNARY.has(node.opType ?? '')) return ins.slice(0, 1);
  const candidates = node.opType === 'Div' ? ins.slice(0, 1) : node.opType === 'Where' ? ins.slice(1) : ins;
  return candidates.filter((t) => t && !index.isConstant(t) && !shapeDerived(index, t));
}

/** Breadth-first walk towards the graph inputs through `pass` ops until a node satisfying `stop`. */
function traceBack(index: GraphIndex, start: string, pass: Set<string>, stop: (n: NodeProto) => boolean): Found | undefined {
  const queue: { tensor: string; path: NodeProto[] }[] = [{ tensor: start, path: [] }];
  const seen = new Set<string>();
  while (queue.length) {
    const { tensor, path } = queue.shift()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const node = index.producer.get(tensor);
    if (!node) continue;
    if (stop(node)) return { node, path };
    if (path.length >= MAX_DEPTH || !pass.has(node.opType ?? '') || (node.domain && node.domain !== 'ai.onnx')) continue;
    for (const t of dataInputs(index, node)) queue.push({ tensor: t, path: [...path, node] });
  }
  return undefined;
}

/**
 * The factor a Mul/Div node applies when it is a scaling (x * c, c * x, x / c): a number for a constant scalar,
 * NaN for a factor computed from shapes at run time (torch's SDPA export: sqrt(1/sqrt(d)) on q and k), else undefined.
 */
function scaleFactor(index: GraphIndex, node: NodeProto): number | undefined {
  const [a, b] = node.input ?? [];
  const value = (name: string | undefined) => {
    if (!name) return undefined;
    const t = index.constantTensor(name);
    const v = t ? smallConstant(t) : undefined;
    if (v) return v.length === 1 ? v[0] : undefined;
    return shapeDerived(index, name) ? NaN : undefined;
  };
  if (node.opType === 'Mul') return value(b) ?? value(a);
  if (node.opType === 'Div') {
    const d = value(b);
    return d === undefined || d === 0 ? undefined : 1 / d;
  }
  return undefined;
}

/** True when a tensor depends on the graph's data only through Shape nodes (a size-derived constant). */
function shapeDerived(index: GraphIndex, name: string, depth = 0): boolean {
  let memo = shapeMemo.get(index);
  if (!memo) shapeMemo.set(index, (memo = new Map()));
  const known = memo.get(name);
  if (known !== undefined) return known;
  let result: boolean;
  const p = index.producer.get(name);
  if (index.isConstant(name)) result = true;
  else if (!p || depth > 10) result = false;
  else if (p.opType === 'Shape' || p.opType === 'Size') result = true;
  else result = (p.input ?? []).every((i) => !i || shapeDerived(index, i, depth + 1));
  memo.set(name, result);
  return result;
}
const shapeMemo = new WeakMap<GraphIndex, Map<string, boolean>>();

/** Walks back over scalings; returns the unscaled tensor and the product of the factors (NaN if one is not static). */
function stripScale(index: GraphIndex, tensor: string): { tensor: string; factor: number } {
  let factor = 1;
  for (;;) {
    const node = index.producer.get(tensor);
    const f = node && !node.domain ? scaleFactor(index, node) : undefined;
    const data = node && (node.input ?? []).filter((t) => t && !index.isConstant(t) && !shapeDerived(index, t));
    if (!node || f === undefined || data?.length !== 1) return { tensor, factor };
    factor *= f;
    tensor = data[0];
  }
}

const isScoreMatMul = (index: GraphIndex) => (n: NodeProto) =>
  n.opType === 'MatMul' && !n.domain && (n.input ?? []).length === 2 && !(n.input ?? []).some((t) => index.isConstant(t));

/** A projection MatMul(x, W) whose W (input 1) is an initializer, possibly behind Identity/Cast/Transpose. */
interface Projection { matmul: NodeProto; weight: string; consumer: NodeProto; inputIndex: number; transposed: boolean; path: NodeProto[] }

function projectionFrom(index: GraphIndex, tensor: string): Projection | undefined {
  const found = traceBack(index, tensor, new Set([...PASS_UNARY, 'Mul', 'Div']), (n) => n.opType === 'MatMul' && !n.domain);
  if (!found) return undefined;
  const matmul = found.node;
  let consumer = matmul;
  let inputIndex = 1;
  let transposed = true;
  let name = (matmul.input ?? [])[1];
  for (let hops = 0; name && !index.initializers.has(name) && hops < 4; hops++) {
    const p = index.producer.get(name);
    if (!p || p.domain || !['Identity', 'Cast', 'Transpose'].includes(p.opType ?? '')) return undefined;
    if (p.opType === 'Transpose') transposed = !transposed;
    consumer = p;
    inputIndex = 0;
    name = (p.input ?? [])[0];
  }
  if (!name || !index.initializers.has(name)) return undefined;
  return { matmul, weight: name, consumer, inputIndex, transposed, path: found.path };
}

/** True when `tensor` is the text input, possibly behind Cast/Identity/Reshape. */
function readsText(index: GraphIndex, tensor: string | undefined, textInput: string): boolean {
  for (let hops = 0; tensor && hops < 4; hops++) {
    if (tensor === textInput) return true;
    const p = index.producer.get(tensor);
    if (!p || p.domain || !['Cast', 'Identity', 'Reshape'].includes(p.opType ?? '')) return false;
    tensor = (p.input ?? [])[0];
  }
  return false;
}

/** Values of a Reshape target shape where statically known (NaN for entries computed at run time). */
function staticShape(index: GraphIndex, tensor: string, depth = 0): number[] | undefined {
  const t = index.constantTensor(tensor);
  if (t) return smallConstant(t);
  const p = index.producer.get(tensor);
  if (!p || depth > 4) return undefined;
  if (p.opType === 'Concat') {
    const parts = (p.input ?? []).map((i) => staticShape(index, i, depth + 1));
    return parts.every((x) => x) ? parts.flatMap((x) => x!) : undefined;
  }
  // torch builds shapes from Unsqueeze'd scalars: one entry each, known or not.
  if (p.opType === 'Unsqueeze') {
    const inner = staticShape(index, (p.input ?? [])[0], depth + 1);
    return inner && inner.length === 1 ? inner : [NaN];
  }
  return undefined;
}

function matchSoftmax(index: GraphIndex, softmax: NodeProto, textInput: string): AttentionMatch | undefined {
  const input = (softmax.input ?? [])[0];
  const probs = (softmax.output ?? [])[0];
  if (!input || !probs) return undefined;
  const score = traceBack(index, input, PASS_SCORE, isScoreMatMul(index));
  if (!score) return undefined;
  const [qIn, kIn] = score.node.input ?? [];
  const key = projectionFrom(index, kIn);
  if (!key || !readsText(index, (key.matmul.input ?? [])[0], textInput)) return undefined;

  let scale = 1;
  for (const n of score.path) scale *= scaleFactor(index, n) ?? 1;
  const q = stripScale(index, qIn);
  scale *= q.factor;
  for (const n of key.path) scale *= scaleFactor(index, n) ?? 1;

  let reshapeHeads: number | undefined;
  let reshapeHeadDim: number | undefined;
  for (const n of key.path) {
    if (n.opType !== 'Reshape') continue;
    const shape = staticShape(index, (n.input ?? [])[1]);
    if (shape?.length === 4) {
      if (shape[2] > 0) reshapeHeads ??= shape[2];
      if (shape[3] > 0) reshapeHeadDim ??= shape[3];
    }
  }

  return {
    softmax, probs, query: q.tensor,
    keyConsumer: key.consumer, keyInputIndex: key.inputIndex, keyWeight: key.weight, keyTransposed: key.transposed,
    keyProjection: key.matmul,
    valueWeight: valueWeightOf(index, probs, textInput),
    scale: scale === 1 || Number.isNaN(scale) ? undefined : scale,
    reshapeHeads, reshapeHeadDim,
  };
}

/** The value projection's weight: the MatMul that multiplies the probabilities reads it on its other side. */
function valueWeightOf(index: GraphIndex, probs: string, textInput: string): string | undefined {
  const queue = [probs];
  for (let hops = 0; queue.length && hops < 8; hops++) {
    const tensor = queue.shift()!;
    for (const c of index.consumers.get(tensor) ?? []) {
      if (c.opType === 'MatMul' && (c.input ?? [])[0] === tensor) {
        const v = projectionFrom(index, (c.input ?? [])[1]);
        return v && readsText(index, (v.matmul.input ?? [])[0], textInput) ? v.weight : undefined;
      }
      if (PASS_UNARY.has(c.opType ?? '')) queue.push(...(c.output ?? []).slice(0, 1));
    }
  }
  return undefined;
}
