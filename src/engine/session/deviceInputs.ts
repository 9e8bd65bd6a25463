// Keeps inputs that stay constant through a sampling run (text embeddings, cross-attention key weights) in
// GPU memory, so the UNet does not copy them from the host at every step.
//
// What onnxruntime-node 1.30 allows (its native binding, bin/napi-v6/<os>/<arch>/onnxruntime_binding.node):
// - A session created with `preferredOutputLocation: 'gpu-buffer'` returns its outputs as Tensors with
//   location 'gpu-buffer' that live in the WebGPU execution provider's memory ("WebGPU_Buffer"), and any
//   session accepts such a Tensor as an input without copying it back. That is WebGPU only: the binding
//   knows no CUDA memory, so on CUDA every input is still copied from the host at every run.
// - There is no way to put host data on the GPU directly (no GPUDevice in Node, and Tensor.fromGpuBuffer
//   needs the binding's own handle), so the upload is a one-node Identity graph run once with its output
//   kept on the device.
// - Reading a 'gpu-buffer' Tensor back (`getData()`) is not implemented in 1.30's binding and aborts the
//   whole process (an uncaught C++ exception), so nothing here ever reads one; results stay host-side.
// - Such a Tensor is freed only by `dispose()` (no finalizer): per-run uploads are disposed after the run.
import * as ort from 'onnxruntime-node';
import { encodeModel, DataType, type ValueInfoProto } from '../onnx/proto';

const ELEM_TYPES: Partial<Record<ort.Tensor.Type, number>> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
};

/** Uploads host tensors once into WebGPU memory; the results can be fed to any WebGPU session of the process. */
export class DeviceUploader {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  /** An uploader where the provider can keep inputs on the device (WebGPU), else undefined. */
  static for(provider: string): DeviceUploader | undefined {
    return provider === 'webgpu' ? new DeviceUploader() : undefined;
  }

  private constructor() {}

  /** A device-resident copy of `tensor`; the caller disposes it when done (it is never read back). */
  async upload(tensor: ort.Tensor): Promise<ort.Tensor> {
    const elemType = ELEM_TYPES[tensor.type];
    if (elemType === undefined) throw new Error(`Cannot keep a ${tensor.type} tensor on the device`);
    const key = `${tensor.type}/${tensor.dims.length}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = ort.InferenceSession.create(identityModel(elemType, tensor.dims.length), {
        executionProviders: ['webgpu'],
        preferredOutputLocation: 'gpu-buffer',
      });
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    const out = (await (await session).run({ x: tensor })).y as ort.Tensor;
    if (out.location !== 'gpu-buffer') throw new Error(`The upload came back in ${out.location} memory, not on the GPU`);
    return out;
  }

  /** Releases the upload sessions; tensors already uploaded stay until their owners dispose them. */
  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of await Promise.allSettled(sessions)) if (session.status === 'fulfilled') await session.value.release();
  }

  /** Uploads every tensor of a feed map; on failure, whatever was already uploaded is disposed. */
  async uploadAll(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const out: Record<string, ort.Tensor> = {};
    try {
      for (const [name, tensor] of Object.entries(feeds)) out[name] = await this.upload(tensor);
    } catch (error) {
      disposeAll(Object.values(out));
      throw error;
    }
    return out;
  }
}

export function disposeAll(tensors: Iterable<ort.Tensor>): void {
  for (const t of tensors) t.dispose();
}

/** y = Identity(x) for a tensor of the given ONNX element type and rank (every dimension free). */
function identityModel(elemType: number, rank: number): Uint8Array {
  const info = (name: string): ValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: Array.from({ length: rank }, (_, i) => ({ dimParam: `d${i}` })) } } },
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'prompt-lens',
    graph: { name: 'upload', node: [{ input: ['x'], output: ['y'], opType: 'Identity', name: 'upload' }], input: [info('x')], output: [info('y')] },
  });
}
