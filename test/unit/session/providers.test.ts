import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isProviderChoice, planProviders, type Platform } from '../../../src/engine/session/providers';

// What onnxruntime-node 1.30's listSupportedBackends() names on each platform (its README's table).
const linuxX64: Platform = { os: 'linux', arch: 'x64', builtIn: ['cpu', 'webgpu', 'cuda', 'tensorrt'], gpuDeviceNodes: ['/dev/dri/renderD128'] };
const linuxArm: Platform = { os: 'linux', arch: 'arm64', builtIn: ['cpu'], gpuDeviceNodes: [] };
const windows: Platform = { os: 'win32', arch: 'x64', builtIn: ['cpu', 'webgpu', 'dml'], gpuDeviceNodes: [] };
const mac: Platform = { os: 'darwin', arch: 'arm64', builtIn: ['cpu', 'webgpu', 'coreml'], gpuDeviceNodes: [] };

describe('execution provider plan', () => {
  test('auto tries the platform GPU provider, then WebGPU, then the CPU', () => {
    const tried = (platform: Platform) => planProviders('auto', platform).map((step) => step.provider + (step.skip ? ' (skipped)' : ''));
    assert.deepEqual(tried(linuxX64), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(tried(windows), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(tried(mac), ['coreml', 'webgpu', 'cpu']);
  });

  test('auto skips WebGPU on a Linux machine without a GPU device node, saying why', () => {
    const [cuda, webgpu, cpu] = planProviders('auto', { ...linuxX64, gpuDeviceNodes: [] });
    assert.deepEqual([cuda, cpu], [{ provider: 'cuda' }, { provider: 'cpu' }]);
    assert.equal(webgpu.provider, 'webgpu');
    assert.match(webgpu.skip ?? '', /^no GPU device/);
  });

  test('auto names the providers missing from this build of onnxruntime-node', () => {
    assert.deepEqual(planProviders('auto', linuxArm), [
      { provider: 'cuda', skip: 'not in onnxruntime-node on linux-arm64' },
      { provider: 'webgpu', skip: 'not in onnxruntime-node on linux-arm64' },
      { provider: 'cpu' },
    ]);
  });

  test('a named provider is tried alone, and one not built in is refused with what the platform has', () => {
    assert.deepEqual(planProviders('dml', windows), [{ provider: 'dml' }]);
    assert.deepEqual(planProviders('webgpu', { ...linuxX64, gpuDeviceNodes: [] }), [{ provider: 'webgpu' }]);
    assert.throws(() => planProviders('coreml', linuxX64), /"coreml" is not in onnxruntime-node on linux-x64 \(it has cpu, webgpu, cuda, tensorrt\)/);
    assert.throws(() => planProviders('cuda', mac), /"cuda" is not in onnxruntime-node on darwin-arm64/);
  });

  test('provider names from settings and flags', () => {
    assert.ok(isProviderChoice('coreml'));
    assert.ok(!isProviderChoice('directml'));
  });
});
