/**
 * Static shapes for the gradient rules, read by running the forward graph once: a probe copy of the graph
 * outputs the Shape of every tensor the rules look at, and the values of integer operands that the graph
 * computes (Slice bounds derived from shapes). The gradient model is then built for exactly those shapes
 * (one batch size and sample size), which keeps every rule a plain static rewrite.
 */
import { GraphIndex } from '../onnx/graph';
import type { ModelProto, ValueInfoProto } from '../onnx/proto';
import { tensorDims } from '../onnx/tensorData';
import type { GradientPlan } from './plan';
import { pruneGraph } from '../onnx/prune';

export interface StaticInfo {
  shapes: Map<string, number[]>;
  /** Integer operands' values (constants from the graph, the rest from the probe). */
  ints: Map<string, number[]>;
}

export interface Probe {
  model: ModelProto;
  /** Output name -> the tensor whose shape it holds. */
  shapeOf: Map<string, string>;
  /** Output name -> the integer tensor whose values it holds. */
  valueOf: Map<string, string>;
}

const PREFIX = 'prompt_lens.probe';

/** `tensors`: the seeds and any other tensor whose shape the gradient model declares. */
export function probeModel(model: ModelProto, plan: GradientPlan, tensors: string[]): Probe {
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const shaped = new Set<string>(tensors);
  for (const node of plan.nodes) for (const t of [...(node.input ?? []), ...(node.output ?? [])]) if (t && !index.initializers.has(t)) shaped.add(t);
  // The graph inputs too: the gradient model declares them at these dims (withStaticInputs).
  for (const v of graph.input ?? []) if (v.name && !index.initializers.has(v.name)) shaped.add(v.name);
  const shapeOf = new Map<string, string>();
  const valueOf = new Map<string, string>();
  const nodes = [...(graph.node ?? [])];
  const outputs: ValueInfoProto[] = [];
  let k = 0;
  for (const t of shaped) {
    const out = `${PREFIX}.shape.${k++}`;
    nodes.push({ opType: 'Shape', name: `${PREFIX}/Shape_${k}`, input: [t], output: [out] });
    outputs.push({ name: out });
    shapeOf.set(out, t);
  }
  for (const [t, values] of plan.intOperands) {
    if (values !== undefined) continue;
    const out = `${PREFIX}.value.${k++}`;
    nodes.push({ opType: 'Identity', name: `${PREFIX}/Identity_${k}`, input: [t], output: [out] });
    outputs.push({ name: out });
    valueOf.set(out, t);
  }
  return { model: { ...model, graph: pruneGraph({ ...graph, node: nodes, output: outputs }) }, shapeOf, valueOf };
}

/** The probe's results (integer tensors by output name) as static shapes and values. */
export function readProbe(model: ModelProto, plan: GradientPlan, probe: Probe, results: Record<string, ArrayLike<number | bigint>>): StaticInfo {
  const shapes = new Map<string, number[]>();
  for (const t of model.graph!.initializer ?? []) if (t.name) shapes.set(t.name, tensorDims(t));
  const numbers = (name: string) => {
    const data = results[name];
    if (!data) throw new Error(`the shape probe did not return ${name}`);
    return Array.from(data, Number);
  };
  for (const [out, t] of probe.shapeOf) shapes.set(t, numbers(out));
  const ints = new Map<string, number[]>();
  for (const [t, values] of plan.intOperands) if (values) ints.set(t, values);
  for (const [out, t] of probe.valueOf) ints.set(t, numbers(out));
  return { shapes, ints };
}

/**
 * The model with its graph inputs declared at fixed dims, where `dimsOf` knows them. The probe and the gradient
 * model each run at one set of shapes; declared, onnxruntime infers every shape and folds the forward's shape
 * arithmetic when it opens them, instead of planning memory around the export's symbolic dims, which was most of
 * the time: sd-tiny's probe opened in 1.2 s instead of 4.4 s (its half-precision trace in 0.6 s instead of 6.5 s),
 * its gradient model (12k nodes) in 3.5 s instead of 12-18 s.
 */
export function withStaticInputs(model: ModelProto, dimsOf: (input: string) => readonly number[] | undefined): ModelProto {
  const graph = model.graph!;
  const input = (graph.input ?? []).map((v): ValueInfoProto => {
    const dims = dimsOf(v.name ?? '');
    const tensorType = v.type?.tensorType;
    if (!dims || !tensorType) return v;
    return { ...v, type: { ...v.type, tensorType: { ...tensorType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
  });
  return { ...model, graph: { ...graph, input } };
}
