import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSafetensors, encodeSafetensors, floatToHalf, halfToFloat, readSafetensors, writeSafetensors, type SafeTensor,
} from '../../../src/engine/safetensors';

test('F32 and F16 tensors and metadata round-trip', async () => {
  const tensors = new Map<string, SafeTensor>([
    ['a.to_k.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -0) }],
    ['b', { dtype: 'F16', shape: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x7bff) }],
    ['c', { dtype: 'F32', shape: [1], data: Float32Array.of(7) }],
  ]);
  const path = join(mkdtempSync(join(tmpdir(), 'st-')), 'x.safetensors');
  await writeSafetensors(path, tensors, { format: 'pt' });
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual([...back.tensors.keys()], ['a.to_k.weight', 'b', 'c']);
  for (const [name, t] of tensors) {
    const got = back.tensors.get(name)!;
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual([...got.data], [...t.data]);
  }
  // Misaligned after the 6-byte F16 tensor: the reader must still give a correct Float32Array.
  assert.ok(back.tensors.get('c')!.data instanceof Float32Array);
});

test('layout: u64 header size, 8-byte aligned JSON header, little-endian data in order', () => {
  const buf = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } as SafeTensor]]));
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  assert.deepEqual(header.w, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
  assert.equal(header.__metadata__, undefined);
  assert.equal(buf.readFloatLE(8 + n + 4), 2);
  assert.equal(buf.length, 8 + n + 8);
});

test('rejects bad files and mismatched tensors with clear errors', () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(3), 'f.st'), /f\.st: not a safetensors file/);
  assert.throws(() => decodeSafetensors(Buffer.from('ffffffffffffffff', 'hex'), 'f.st'), /header length/);
  const bad = Buffer.concat([Buffer.from([13, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}'.slice(0, 13))]);
  assert.throws(() => decodeSafetensors(bad, 'f.st'), /not JSON/);
  const i8 = '{"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}';
  const buf = Buffer.concat([Buffer.alloc(8), Buffer.from(i8), Buffer.alloc(1)]);
  buf.writeBigUInt64LE(BigInt(i8.length), 0);
  assert.throws(() => decodeSafetensors(buf, 'f.st'), /unsupported dtype I8/);
  assert.throws(() => encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [3], data: Float32Array.of(1) } as SafeTensor]])), /1 values for shape \[3\]/);
});

test('writeSafetensors leaves no temporary file behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'k.safetensors');
  await writeSafetensors(path, new Map([['w', { dtype: 'F16', shape: [1], data: Uint16Array.of(0x3c00) } as SafeTensor]]));
  assert.ok(readFileSync(path).length > 8);
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(dir), ['k.safetensors']);
});

test('half-precision conversion: exact values, rounding to nearest even, specials', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0, 0], [0.5, 0x3800]];
  for (const [v, h] of cases) {
    assert.equal(floatToHalf(v), h, `floatToHalf(${v})`);
    assert.equal(halfToFloat(h), v, `halfToFloat(${h})`);
  }
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
  assert.equal(floatToHalf(70000), 0x7c00);
  assert.equal(floatToHalf(-Infinity), 0xfc00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(floatToHalf(2 ** -26), 0); // below half the smallest subnormal
  assert.equal(floatToHalf(3 * 2 ** -25), 0x0002); // subnormal tie -> even
  for (let h = 0; h < 0x7c00; h += 37) assert.equal(floatToHalf(halfToFloat(h)), h);
});
