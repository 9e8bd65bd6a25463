/**
 * Folds the Reshape targets that an exported graph computes at run time into constants. torch.onnx writes
 * `x.view(b, -1, heads, d)` as Shape → Gather → Unsqueeze → Concat → Reshape because the batch is dynamic: half of
 * tiny-shapes' instrumented UNet (1,629 of 2,573 nodes) is such shape arithmetic, and at a small model's size
 * onnxruntime's cost per node is a good part of a call. A probe copy of the graph outputs every computed target
 * and its Reshape's input shape; run at a few input sizes, each target entry is then either constant, a copy of
 * the input's dimension at the same place (0 in Reshape's terms) or the one entry left to infer (-1). The graph
 * stays valid for every batch and sample size; targets that need two inferred entries are left as they are.
 */
import { attrInt, GraphIndex } from './graph';
import { DataType, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import { pruneGraph } from './prune';

export interface ShapeProbe {
  /** The graph with the extra outputs (and only what they and the original outputs need). */
  model: ModelProto;
  reshapes: ProbedReshape[];
}

export interface ProbedReshape {
  node: NodeProto;
  /** Probe output holding the computed target shape. */
  target: string;
  /** Probe output holding the Shape of the Reshape's data input. */
  inputShape: string;
}

/** One probe run's integer outputs by name. */
export type ProbeRun = Record<string, ArrayLike<number | bigint>>;

const PREFIX = 'prompt_lens.fold';

export function shapeProbe(model: ModelProto): ShapeProbe {
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const nodes = [...(graph.node ?? [])];
  const outputs: ValueInfoProto[] = [...(graph.output ?? [])];
  const reshapes: ProbedReshape[] = [];
  for (const node of graph.node ?? []) {
    const [data, target] = node.input ?? [];
    if (node.opType !== 'Reshape' || node.domain || !data || !target || index.isConstant(target)) continue;
    // allowzero=1 makes 0 a literal size, so "copy the input's dimension" could not be written as 0.
    if (attrInt(node, 'allowzero') === 1) continue;
    const k = reshapes.length;
    const probed = { node, target: `${PREFIX}.target.${k}`, inputShape: `${PREFIX}.input_shape.${k}` };
    nodes.push({ opType: 'Identity', name: `${PREFIX}/Identity_${k}`, input: [target], output: [probed.target] });
    nodes.push({ opType: 'Shape', name: `${PREFIX}/Shape_${k}`, input: [data], output: [probed.inputShape] });
    outputs.push({ name: probed.target }, { name: probed.inputShape });
    reshapes.push(probed);
  }
  return { model: { ...model, graph: { ...graph, node: nodes, output: outputs } }, reshapes };
}

/**
 * The constant target that gives the same result as `targets` did for input shapes `inputShapes` (one of each per
 * probe run), or undefined when no single constant does: an entry that is the same in every run stays, one that
 * equals the input's dimension at its place in every run becomes 0, and at most one other entry becomes -1.
 */
export function foldedTarget(targets: readonly number[][], inputShapes: readonly number[][]): number[] | undefined {
  const [first] = targets;
  if (!first || targets.some((t) => t.length !== first.length)) return undefined;
  const folded = first.map((value, i) => {
    if (targets.every((t) => t[i] === value)) return value;
    if (targets.every((t, run) => i < inputShapes[run].length && t[i] === inputShapes[run][i])) return 0;
    return -1;
  });
  return folded.filter((v) => v === -1).length > 1 ? undefined : folded;
}

/**
 * `model` (the graph shapeProbe was made from) with each probed Reshape whose target folds reading a constant,
 * and the shape arithmetic nothing else reads removed. `runs`: the probe's outputs at two or more input sizes
 * that differ in every dynamic dimension the model will see.
 */
export function foldReshapes(model: ModelProto, probe: ShapeProbe, runs: readonly ProbeRun[]): { model: ModelProto; folded: number; kept: number } {
  if (runs.length < 2) throw new Error('foldReshapes needs probe runs at two or more input sizes');
  const graph = model.graph!;
  const byNode = new Map<NodeProto, string>();
  const initializers: TensorProto[] = [];
  for (const [k, reshape] of probe.reshapes.entries()) {
    const target = foldedTarget(runs.map((r) => ints(r, reshape.target)), runs.map((r) => ints(r, reshape.inputShape)));
    if (!target) continue;
    const name = `${PREFIX}.folded_target.${k}`;
    initializers.push({ name, dims: [target.length], dataType: DataType.INT64, int64Data: target });
    byNode.set(reshape.node, name);
  }
  const nodes = (graph.node ?? []).map((node) => {
    const name = byNode.get(node);
    return name ? { ...node, input: [node.input![0], name] } : node;
  });
  const pruned = pruneGraph({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...initializers] });
  // Every input stays declared, read or not (callers feed what the original takes), except an initializer's
  // declaration whose initializer went with the shape arithmetic: it would turn into a required input.
  const dropped = new Set((graph.initializer ?? []).map((t) => t.name));
  for (const t of pruned.initializer ?? []) dropped.delete(t.name);
  const input = (graph.input ?? []).filter((v) => !dropped.has(v.name));
  return { model: { ...model, graph: { ...pruned, input } }, folded: byNode.size, kept: probe.reshapes.length - byNode.size };
}

function ints(run: ProbeRun, name: string): number[] {
  const values = run[name];
  if (!values) throw new Error(`probe output ${name} is missing`);
  return Array.from(values, Number);
}
