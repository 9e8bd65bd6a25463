/**
 * Points the instrumented copy's embedded weights at their bytes inside the original file (ONNX external data with
 * location = the original's file name), so a multi-gigabyte single-file UNet is not duplicated on disk.
 * Relies on protobufjs decoding `bytes` fields as views into the file buffer, which gives each tensor's file offset.
 */
import type { ModelProto } from './proto';
import { EXTERNAL } from './proto';

/** Returns how many initializers now reference the source file. */
export function referenceSourceWeights(model: ModelProto, fileBytes: Uint8Array, sourceName: string, minBytes = 1024): number {
  let count = 0;
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < minBytes || raw.buffer !== fileBytes.buffer) continue;
    const offset = raw.byteOffset - fileBytes.byteOffset;
    if (offset < 0 || offset + raw.length > fileBytes.length) continue;
    t.externalData = [
      { key: 'location', value: sourceName },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = EXTERNAL;
    delete t.rawData;
    count++;
  }
  return count;
}
