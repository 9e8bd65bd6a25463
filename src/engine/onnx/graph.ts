/** Lookup tables over a GraphProto: who produces and who consumes each tensor, and which tensors are constants. */
import type { GraphProto, NodeProto, TensorProto } from './proto';

export class GraphIndex {
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly inputs = new Set<string>();

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const v of graph.input ?? []) if (v.name && !this.initializers.has(v.name)) this.inputs.add(v.name);
    for (const node of graph.node ?? []) {
      for (const out of node.output ?? []) if (out) this.producer.set(out, node);
      for (const inp of node.input ?? []) {
        if (!inp) continue;
        const list = this.consumers.get(inp);
        if (list) list.push(node);
        else this.consumers.set(inp, [node]);
      }
    }
  }

  /** The tensor behind a name when it is an initializer or the output of a Constant node with a `value` tensor. */
  constantTensor(name: string): TensorProto | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const node = this.producer.get(name);
    if (node?.opType === 'Constant' && !node.domain) return node.attribute?.find((a) => a.name === 'value')?.t;
    return undefined;
  }

  isConstant(name: string): boolean {
    return this.constantTensor(name) !== undefined;
  }

  /** All names already used for tensors or nodes, so new ones can be made unique. */
  usedNames(): Set<string> {
    const names = new Set<string>([...this.initializers.keys(), ...this.inputs, ...this.producer.keys()]);
    for (const o of this.graph.output ?? []) if (o.name) names.add(o.name);
    for (const n of this.graph.node ?? []) if (n.name) names.add(n.name);
    return names;
  }
}

export function attrInt(node: NodeProto, name: string): number | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a || a.i === undefined || a.i === null) return undefined;
  return typeof a.i === 'number' ? a.i : a.i.toNumber();
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.ints?.map((v) => (typeof v === 'number' ? v : v.toNumber()));
}

export function attrFloat(node: NodeProto, name: string): number | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.f ?? undefined;
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}
