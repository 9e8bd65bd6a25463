/**
 * Which part of a graph the gradient flows through: the tensors on a path from a differentiated input
 * to a seeded tensor (the "active" ones), the nodes between them, and the integer operands their rules
 * must know. Everything else (timestep embedding, text-only branches, later layers) is pruned.
 */
import { GraphIndex } from '../onnx/graph';
import { smallConstant } from '../onnx/tensorData';
import { DataType, toNumber, type ModelProto, type NodeProto } from '../onnx/proto';
import { gradientRules, nonDifferentiable } from './rules';

export interface GradientRequest {
  /** Graph inputs (key weights) whose gradient the model outputs. */
  wrt: string[];
  /** Tensors whose gradient the caller feeds: the inputs of a loss computed outside the graph, or an in-graph loss. */
  seeds: string[];
  /** Forward tensors the gradient model outputs too, beside the gradients (an in-graph loss's values). */
  keep?: string[];
}

export interface GradientPlan {
  /** Nodes the gradient flows through, in forward (topological) order. */
  nodes: NodeProto[];
  /** Tensors that get a gradient. */
  active: Set<string>;
  /** `wrt` inputs with no path to any seed (their gradient is zero). */
  unreached: string[];
  /** Integer operands the rules read, with their values where the graph holds them as constants. */
  intOperands: Map<string, number[] | undefined>;
  dtypes: Map<string, number>;
}

const FLOATS = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, 16 /* bfloat16 */]);

export class GradientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradientError';
  }
}

export function planGradient(model: ModelProto, request: GradientRequest): GradientPlan {
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const nodes = graph.node ?? [];
  for (const w of request.wrt) if (!index.inputs.has(w)) throw new GradientError(`${w} is not an input of the graph`);
  const dtypes = inferDtypes(model, index);

  const reached = new Set(request.wrt);
  for (const node of nodes) {
    if (nonDifferentiable.has(node.opType ?? '') || !(node.input ?? []).some((i) => reached.has(i))) continue;
    for (const o of node.output ?? []) if (o && FLOATS.has(dtypes.get(o) ?? 0)) reached.add(o);
  }
  const needed = new Set(request.seeds);
  for (const s of request.seeds) if (!index.producer.has(s) && !index.inputs.has(s)) throw new GradientError(`${s} is not a tensor of the graph`);
  for (let n = nodes.length - 1; n >= 0; n--) {
    if ((nodes[n].output ?? []).some((o) => needed.has(o))) for (const i of nodes[n].input ?? []) if (i) needed.add(i);
  }
  const active = new Set([...reached].filter((t) => needed.has(t)));
  const onPath = nodes.filter((n) => (n.input ?? []).some((i) => active.has(i)) && (n.output ?? []).some((o) => active.has(o)));

  const intOperands = new Map<string, number[] | undefined>();
  for (const node of onPath) {
    if (node.domain && node.domain !== 'ai.onnx') throw new GradientError(`no gradient rule for ${node.domain}.${node.opType} (node "${node.name ?? ''}")`);
    const rule = gradientRules.get(node.opType ?? '');
    if (!rule) throw new GradientError(`no gradient rule for ${node.opType} (node "${node.name ?? ''}"), which lies between the keys and the loss`);
    for (const i of rule.intInputs ?? []) {
      const name = node.input?.[i];
      if (!name) continue;
      const constant = index.constantTensor(name);
      // A constant too large or stored externally is read by the probe instead.
      intOperands.set(name, constant ? smallConstant(constant) : undefined);
    }
  }
  const unreached = request.wrt.filter((w) => !onPath.some((n) => n.input?.includes(w)));
  return { nodes: onPath, active, unreached, intOperands, dtypes };
}

/** Element types of every tensor, from the inputs, initializers and each op's typing rule. */
function inferDtypes(model: ModelProto, index: GraphIndex): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of model.graph!.input ?? []) if (v.name) types.set(v.name, v.type?.tensorType?.elemType ?? 0);
  for (const [name, t] of index.initializers) types.set(name, t.dataType ?? 0);
  const attr = (node: NodeProto, name: string) => node.attribute?.find((a) => a.name === name);
  for (const node of model.graph!.node ?? []) {
    const outs = node.output ?? [];
    const first = types.get(node.input?.[0] ?? '') ?? 0;
    let type: number;
    switch (node.opType) {
      case 'Cast': type = toNumber(attr(node, 'to')?.i); break;
      case 'CastLike': type = types.get(node.input?.[1] ?? '') ?? 0; break;
      case 'Constant': type = attr(node, 'value')?.t?.dataType ?? (attr(node, 'value_float') ? DataType.FLOAT : DataType.INT64); break;
      case 'ConstantOfShape': type = attr(node, 'value')?.t?.dataType ?? DataType.FLOAT; break;
      case 'Shape': case 'Size': case 'NonZero': case 'ArgMax': case 'ArgMin': type = DataType.INT64; break;
      case 'Equal': case 'Less': case 'LessOrEqual': case 'Greater': case 'GreaterOrEqual': case 'Not': case 'And': case 'Or': case 'Xor': case 'IsNaN': case 'IsInf':
        type = 9; break;
      case 'Where': type = types.get(node.input?.[1] ?? '') ?? 0; break;
      default: type = first;
    }
    for (const o of outs) if (o) types.set(o, type);
  }
  return types;
}
