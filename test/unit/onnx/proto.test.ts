import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, defaultOpset, encodeModel, toNumber } from '../../../src/engine/onnx/proto';

const FIXTURE = join(__dirname, '../../../../test/fixtures/onnx/attention.onnx');

test('a torch export re-encodes byte for byte (the schema knows every field it uses)', () => {
  const bytes = readFileSync(FIXTURE);
  const model = decodeModel(bytes);
  assert.equal(defaultOpset(model), 17);
  assert.ok(toNumber(model.irVersion) >= 7);
  assert.deepEqual(model.graph!.input!.map((i) => i.name), ['sample', 'timestep', 'encoder_hidden_states']);
  assert.equal(Buffer.compare(Buffer.from(encodeModel(model)), bytes), 0);
});

test('explicitly written defaults survive a round trip (proto2 presence)', () => {
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: [{ opType: 'Softmax', input: ['x'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 0 }] }] },
  };
  const back = decodeModel(encodeModel(model));
  const attr = back.graph!.node![0].attribute![0];
  assert.ok(Object.prototype.hasOwnProperty.call(attr, 'i'));
  assert.equal(toNumber(attr.i), 0);
});
