// The inputs and outputs a graph declares, read from its protobuf: no session, so no weights loaded (creating a
// session for an SD 1.5 UNet takes GBs and tens of seconds just to learn its input names).
import { readFile } from 'node:fs/promises';
import { decodeModel, toNumber, type ModelProto, type ValueInfoProto } from './proto';

export interface GraphPort {
  name: string;
  /** Fixed sizes as numbers, named (dynamic) axes as their names, unknown ones as '?'. */
  dims: (number | string)[];
}

export interface GraphSignature {
  inputs: GraphPort[];
  outputs: GraphPort[];
}

export async function readGraphSignature(file: string): Promise<GraphSignature> {
  return graphSignature(await readOnnxModel(file));
}

/** The whole model, or an error that says the file is no ONNX model. */
export async function readOnnxModel(file: string): Promise<ModelProto> {
  try {
    return decodeModel(await readFile(file));
  } catch (error) {
    throw new Error(`${file} is not an ONNX model: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function graphSignature(model: ModelProto): GraphSignature {
  const graph = model.graph;
  // Older exports list initializers among the inputs too; only the fed ones count.
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const port = (v: ValueInfoProto): GraphPort => ({
    name: v.name ?? '',
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined ? toNumber(d.dimValue) : '?')),
  });
  return {
    inputs: (graph?.input ?? []).filter((v) => !initializers.has(v.name)).map(port),
    outputs: (graph?.output ?? []).map(port),
  };
}
