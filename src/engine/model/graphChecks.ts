// Checks on an export's graphs that onnxruntime would otherwise fail at run time, long after
// `check` said the model was usable: token ids the text encoder cannot embed, and external
// weights stored outside the graph's folder (onnxruntime refuses to read those).
import { isAbsolute, normalize } from 'node:path';
import { GraphIndex } from '../onnx/graph';
import { EXTERNAL, toNumber, type ModelProto } from '../onnx/proto';

/** Ops that pass token ids through unchanged on their way from input_ids to the embedding Gather. */
const ID_PASSTHROUGH = new Set(['Cast', 'Reshape', 'Identity', 'Unsqueeze', 'Squeeze', 'Flatten']);

/**
 * Rows of the text encoder's token embedding: the table that a Gather indexes with `input_ids`
 * (possibly cast or reshaped first). Undefined when the graph does not show it plainly.
 */
export function tokenEmbeddingRows(model: ModelProto): number | undefined {
  if (!model.graph) return undefined;
  const index = new GraphIndex(model.graph);
  const fromIds = (name: string | undefined): boolean => {
    for (let depth = 0; name !== undefined && depth < 8; depth++) {
      if (name === 'input_ids') return true;
      const node = index.producer.get(name);
      if (!node || !ID_PASSTHROUGH.has(node.opType ?? '')) return false;
      name = node.input?.[0];
    }
    return false;
  };
  for (const node of model.graph.node ?? []) {
    if (node.opType !== 'Gather' || !fromIds(node.input?.[1])) continue;
    // The table itself may be cast (float16 exports) before the Gather.
    let table = node.input?.[0];
    for (let depth = 0; table !== undefined && !index.initializers.has(table) && depth < 4; depth++) {
      const producer = index.producer.get(table);
      table = producer && ID_PASSTHROUGH.has(producer.opType ?? '') ? producer.input?.[0] : undefined;
    }
    const dims = table === undefined ? undefined : index.initializers.get(table)?.dims;
    if (dims && dims.length === 2) return toNumber(dims[0]);
  }
  return undefined;
}

/** The first initializer whose external data lies outside the graph's own folder, said as a problem; undefined when none does. */
export function externalDataOutsideFolder(model: ModelProto, graphFile: string): string | undefined {
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataLocation !== EXTERNAL) continue;
    const location = (tensor.externalData ?? []).find((e) => e.key === 'location')?.value ?? '';
    if (location === '' || isAbsolute(location) || normalize(location).split(/[\\/]/)[0] === '..') {
      return (
        `${graphFile}: the weights of "${tensor.name ?? '?'}" are stored in "${location}", outside the graph's folder, ` +
        "which onnxruntime refuses to read: export again, or move the data file beside the graph and fix its location"
      );
    }
  }
  return undefined;
}
