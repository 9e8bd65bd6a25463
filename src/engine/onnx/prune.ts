/** Keeps only what a graph's outputs need: nodes, inputs and initializers nothing reads are dropped. */
import type { GraphProto } from './proto';

export function pruneGraph(graph: GraphProto): GraphProto {
  const needed = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const kept = [];
  const nodes = graph.node ?? [];
  for (let n = nodes.length - 1; n >= 0; n--) {
    if (!(nodes[n].output ?? []).some((o) => needed.has(o))) continue;
    kept.push(nodes[n]);
    for (const i of nodes[n].input ?? []) if (i) needed.add(i);
  }
  return {
    ...graph,
    node: kept.reverse(),
    input: (graph.input ?? []).filter((v) => needed.has(v.name ?? '')),
    initializer: (graph.initializer ?? []).filter((t) => needed.has(t.name ?? '')),
    // Stale shape annotations of pruned or re-shaped tensors would only mislead onnxruntime.
    valueInfo: [],
  };
}
