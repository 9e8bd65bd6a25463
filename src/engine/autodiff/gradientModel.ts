/**
 * Reverse-mode differentiation of an ONNX graph into one ONNX model: the forward pass, then each path
 * node's vector-Jacobian rule in reverse order, gradients of tensors with several consumers summed.
 * The model takes the forward inputs plus `<seed>.grad` (dL/d seed, float32) and outputs `<input>.grad`
 * (dL/d input, float32) for every requested input that reaches a seed, then the forward tensors it is asked
 * to keep; it runs in the same onnxruntime as the forward, on any execution provider, with no other framework.
 */
import { GraphIndex } from '../onnx/graph';
import { DataType, defaultOpset, tensorValueInfo, type ModelProto, type ValueInfoProto } from '../onnx/proto';
import { Emitter } from './emitter';
import { GradientError, type GradientPlan, type GradientRequest } from './plan';
import { pruneGraph } from '../onnx/prune';
import { gradientRules, type RuleContext } from './rules';
import { withStaticInputs, type StaticInfo } from './staticShapes';

export interface GradientModel {
  model: ModelProto;
  /** Seeded tensor -> the input that takes its gradient (float32, the tensor's static shape). */
  seedInputs: Map<string, string>;
  /** Differentiated input -> the output holding its gradient (float32). */
  gradOutputs: Map<string, string>;
  /** Requested inputs with no path to a seed: their gradient is zero. */
  unreached: string[];
}

export const gradName = (tensor: string): string => `${tensor}.grad`;

export function emitGradientModel(model: ModelProto, request: GradientRequest, plan: GradientPlan, info: StaticInfo): GradientModel {
  const graph = model.graph!;
  const opset = defaultOpset(model);
  if (opset < 13) throw new GradientError(`the model uses opset ${opset}; differentiating it needs opset 13 or newer (re-export it)`);
  const used = new GraphIndex(graph).usedNames();
  const e = new Emitter(used, opset, 'prompt_lens.grad');
  const shape = (name: string): number[] => {
    const s = info.shapes.get(name);
    if (!s) throw new GradientError(`no static shape for ${name}`);
    return s;
  };
  const dtype = (name: string): number => plan.dtypes.get(name) ?? 0;

  const contributions = new Map<string, string[]>();
  const add = (tensor: string, grad: string) => {
    const list = contributions.get(tensor);
    if (list) list.push(grad);
    else contributions.set(tensor, [grad]);
  };
  const total = (tensor: string): string | undefined => {
    const list = contributions.get(tensor);
    if (!list) return undefined;
    if (list.length > 1) contributions.set(tensor, [e.op('Sum', list)]);
    return contributions.get(tensor)![0];
  };

  const seedInputs = new Map<string, string>();
  const extraInputs: ValueInfoProto[] = [];
  for (const seed of request.seeds) {
    const name = gradName(seed);
    if (used.has(name)) throw new GradientError(`the graph already has a tensor named ${name}`);
    used.add(name);
    seedInputs.set(seed, name);
    extraInputs.push(tensorValueInfo(name, shape(seed)));
    add(seed, dtype(seed) === DataType.FLOAT ? name : e.cast(name, dtype(seed)));
  }

  for (let n = plan.nodes.length - 1; n >= 0; n--) {
    const node = plan.nodes[n];
    const outputs = node.output ?? [];
    const dys = outputs.map((o) => (plan.active.has(o) ? total(o) : undefined));
    if (dys.every((d) => d === undefined)) continue;
    const inputs = node.input ?? [];
    const where = `${node.opType} node "${node.name ?? ''}"`;
    const context: RuleContext = {
      node,
      e,
      input: (i) => inputs[i] ?? '',
      output: (k) => outputs[k] ?? '',
      dy: (k = 0) => dys[k],
      needs: (i) => !!inputs[i] && plan.active.has(inputs[i]),
      shape,
      dtype,
      ints: (name) => {
        const v = info.ints.get(name);
        if (!v) throw new GradientError(`${where}: the value of ${name} is unknown`);
        return v;
      },
      fail: (why) => {
        throw new GradientError(`${where}: ${why}`);
      },
    };
    const grads = gradientRules.get(node.opType ?? '')!.grad(context);
    inputs.forEach((input, i) => {
      if (!context.needs(i)) return;
      const g = grads[i];
      if (!g) throw new GradientError(`${where}: its rule gives no gradient for input ${i} (${input})`);
      add(input, g);
    });
  }

  const gradOutputs = new Map<string, string>();
  const outputs: ValueInfoProto[] = [];
  for (const w of request.wrt) {
    const g = total(w);
    if (!g) continue;
    const name = gradName(w);
    if (used.has(name)) throw new GradientError(`the graph already has a tensor named ${name}`);
    used.add(name);
    if (dtype(w) === DataType.FLOAT) e.opTo('Identity', [g], name);
    else e.opTo('Cast', [g], name, { to: DataType.FLOAT });
    gradOutputs.set(w, name);
    outputs.push(tensorValueInfo(name, shape(w)));
  }
  if (outputs.length === 0) throw new GradientError(`none of the inputs reaches ${request.seeds.join(', ')}`);
  for (const k of request.keep ?? []) outputs.push(tensorValueInfo(k, shape(k), dtype(k)));

  const full = {
    ...graph,
    node: [...(graph.node ?? []), ...e.nodes],
    initializer: [...(graph.initializer ?? []), ...e.initializers],
    input: [...(graph.input ?? []), ...extraInputs],
    output: outputs,
  };
  // Valid for the probed shapes only, and declared so (the seed inputs and outputs already are).
  const built = withStaticInputs({ ...model, graph: pruneGraph(full) }, (name) => info.shapes.get(name));
  return { model: built, seedInputs, gradOutputs, unreached: plan.unreached };
}
