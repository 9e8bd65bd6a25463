/**
 * Edits the graph in place: exposes each layer's probabilities and queries as float32 outputs, and turns each
 * key-projection weight into a required graph input. Only appends nodes, so the original computation is untouched.
 */
import type { GraphIndex } from './graph';
import type { LayerPlan } from './layers';
import { AttrType, DataType, defaultOpset, tensorValueInfo, type ModelProto, type NodeProto, type TensorProto } from './proto';
import type { CrossAttentionLayer } from './types';

const PREFIX = 'prompt_lens';

export function outputNames(layer: string): { probs: string; query: string; key: string } {
  return { probs: `${PREFIX}.probs.${layer}`, query: `${PREFIX}.query.${layer}`, key: `${PREFIX}.key.${layer}` };
}

function int64Tensor(name: string, values: bigint[]): TensorProto {
  const data = BigInt64Array.from(values);
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

function node(opType: string, name: string, input: string[], output: string[], attribute: NodeProto['attribute'] = []): NodeProto {
  return { opType, name, input, output, attribute };
}

export function rewriteGraph(model: ModelProto, index: GraphIndex, plans: LayerPlan[], perHead: boolean): CrossAttentionLayer[] {
  const graph = model.graph!;
  graph.node ??= [];
  graph.initializer ??= [];
  graph.input ??= [];
  graph.output ??= [];
  const opset = defaultOpset(model);
  const used = index.usedNames();
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const constants = new Map<string, string>();
  const constant = (key: string, values: bigint[]) => {
    let name = constants.get(key);
    if (!name) {
      name = fresh(`${PREFIX}/const/${key}`);
      graph.initializer!.push(int64Tensor(name, values));
      constants.set(key, name);
    }
    return name;
  };

  /** Cast to float32 and reshape [.., X, Y] -> [-1, heads, X, Y]: works for [B*h, X, Y] and [B, h, X, Y] alike. */
  const splitHeads = (scope: string, tensor: string, heads: number, output?: string): string => {
    const f32 = fresh(`${scope}/cast_out`);
    const shape = fresh(`${scope}/shape_out`);
    const tail = fresh(`${scope}/tail_out`);
    const target = fresh(`${scope}/target_out`);
    const out = output ?? fresh(`${scope}/heads_out`);
    graph.node!.push(
      node('Cast', fresh(`${scope}/Cast`), [tensor], [f32], [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }]),
      node('Shape', fresh(`${scope}/Shape`), [f32], [shape]),
      node('Slice', fresh(`${scope}/Slice`), [shape, constant('minus2', [-2n]), constant('int64max', [0x7fffffffffffffffn]), constant('zero', [0n])], [tail]),
      node('Concat', fresh(`${scope}/Concat`), [constant(`heads${heads}`, [-1n, BigInt(heads)]), tail], [target], [{ name: 'axis', type: AttrType.INT, i: 0 }]),
      node('Reshape', fresh(`${scope}/Reshape`), [f32, target], [out]),
    );
    return out;
  };

  const layers: CrossAttentionLayer[] = [];
  for (const plan of plans) {
    const names = outputNames(plan.name);
    for (const n of Object.values(names)) {
      if (used.has(n)) throw new Error(`the graph already has a tensor named ${n}; was it instrumented before?`);
      used.add(n);
    }
    const scope = `/${PREFIX}/${plan.name}`;
    const m = plan.match;

    if (perHead) {
      splitHeads(`${scope}/probs`, m.probs, plan.heads, names.probs);
      graph.output.push(tensorValueInfo(names.probs, ['batch', plan.heads, 'queries', 'tokens']));
    } else {
      const split = splitHeads(`${scope}/probs`, m.probs, plan.heads);
      const keep = { name: 'keepdims', type: AttrType.INT, i: 0 };
      // ReduceMean takes its axes as an input from opset 18, as an attribute before.
      graph.node.push(
        opset >= 18
          ? node('ReduceMean', fresh(`${scope}/probs/ReduceMean`), [split, constant('axis1', [1n])], [names.probs], [keep])
          : node('ReduceMean', fresh(`${scope}/probs/ReduceMean`), [split], [names.probs], [keep, { name: 'axes', type: AttrType.INTS, ints: [1] }]),
      );
      graph.output.push(tensorValueInfo(names.probs, ['batch', 'queries', 'tokens']));
    }
    splitHeads(`${scope}/query`, m.query, plan.heads, names.query);
    graph.output.push(tensorValueInfo(names.query, ['batch', plan.heads, 'queries', plan.headDim]));

    // The weight becomes a required input; feeding it is how the engine swaps keys without rebuilding the session.
    const weight = index.initializers.get(m.keyWeight)!;
    m.keyConsumer.input![m.keyInputIndex] = names.key;
    graph.input.push({
      name: names.key,
      type: { tensorType: { elemType: weight.dataType, shape: { dim: plan.keyShape.map((d) => ({ dimValue: d })) } } },
    });

    layers.push({
      name: plan.name, probsOutput: names.probs, queryOutput: names.query, keyInput: names.key,
      keyShape: plan.keyShape, keyDtype: plan.keyDtype, keyTransposed: m.keyTransposed,
      heads: plan.heads, headDim: plan.headDim, innerDim: plan.innerDim, textDim: plan.textDim,
    });
  }

  dropUnusedInitializers(model, new Set(plans.map((p) => p.match.keyWeight)));
  return layers;
}

/**
 * Removes replaced weights that nothing reads any more. onnxruntime ignores values fed to a name that is also an
 * initializer, so a weight shared with another consumer stays an initializer there and only this layer's use is rewired.
 */
function dropUnusedInitializers(model: ModelProto, candidates: Set<string>): void {
  const graph = model.graph!;
  const stillRead = new Set<string>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) if (candidates.has(i)) stillRead.add(i);
  for (const o of graph.output ?? []) if (o.name && candidates.has(o.name)) stillRead.add(o.name);
  const drop = (name: string | undefined) => !!name && candidates.has(name) && !stillRead.has(name);
  graph.initializer = (graph.initializer ?? []).filter((t) => !drop(t.name));
  // IR < 4 lists initializers among the inputs too; an orphaned entry would become a required input.
  graph.input = (graph.input ?? []).filter((v) => !drop(v.name));
}
