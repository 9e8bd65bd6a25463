/**
 * The WebGPU execution provider (bundled with onnxruntime-node) against CPU on the embedded model: the plain
 * UNet, the instrumented one through the Pipeline (image, every attention map, a key overlay), the constant
 * inputs kept on the device, the finetune's gradient model (one run, and with L_norm), and what `auto` picks. Skipped, saying why, where no WebGPU adapter can be
 * created (no Vulkan loader or driver; Debian 12's own Mesa lavapipe is one Dawn turns down, see .ci/run).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import * as ort from 'onnxruntime-node';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor } from '../../src/engine/finetune/trainer';
import { openModelFolder, type ModelFolder } from '../../src/engine/model/modelFolder';
import { Rng } from '../../src/engine/random';
import { Pipeline, type GenerateRequest } from '../../src/engine/pipeline/pipeline';
import { createSession } from '../../src/engine/session/createSession';
import { gpuDeviceNodes } from '../../src/engine/session/providers';
import { toHalfPrecisionExport } from './halfPrecisionExport';
import { copyFixture, generateWithCaptures, maxCaptureDiff, SD_MODELS } from './sdExport';

const MODEL = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-shapes');
const SD_TINY = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'sd-tiny');
/** Relative to the largest magnitude of the CPU result. */
const TOLERANCE = 1e-3;

function wave(n: number, phase: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + phase));
}

/** Largest |a - b| over the largest |a|. */
function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / (scale || 1);
}

function maxPixelDiff(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Sampled {
  image: Uint8Array | Uint8ClampedArray;
  overlay: Uint8Array | Uint8ClampedArray;
  /** [step][layer] conditional-sample probabilities. */
  maps: Float32Array[][];
}

async function sample(pipeline: Pipeline): Promise<Sampled> {
  const request: GenerateRequest = { prompt: 'a red circle and a blue square', negativePrompt: '', seed: 3, steps: 3, guidance: 2, eta: 0 };
  const maps: Float32Array[][] = [];
  const out = await pipeline.generate(request, { onAttention: (captures) => maps.push(captures.map((c) => Float32Array.from(c.probs))) });
  // A finetuned-key overlay (uploaded per run on the device, unlike the base keys).
  const keys = new Map(pipeline.instrumented.layers.map((l, i) => [l.name, wave(l.keyShape.reduce((a, b) => a * b, 1), i).map((v) => 0.05 * v)]));
  const overlay = await pipeline.generate({ ...request, keys });
  return { image: out.image.data, overlay: overlay.image.data, maps };
}

describe('WebGPU execution provider', () => {
  let folder: ModelFolder;
  let unavailable: string | undefined;

  before(async () => {
    folder = await openModelFolder(MODEL);
    try {
      const probe = await createSession(folder.textEncoderPath, 'webgpu');
      await probe.session.release();
    } catch (error) {
      // The last line is ORT's "webgpu: <source location> ... was false. Failed to get a WebGPU adapter: ...".
      const reason = (error instanceof Error ? error.message : String(error)).split('\n').pop() ?? '';
      unavailable = `no WebGPU adapter here (${reason.replace(/^.* was false\. /, '').trim()})`;
    }
  });

  const skipped = (t: TestContext): boolean => {
    if (unavailable) t.skip(unavailable);
    return unavailable !== undefined;
  };

  test('the plain UNet gives the CPU result', async (t) => {
    if (skipped(t)) return;
    const feeds = {
      sample: new ort.Tensor('float32', wave(2 * 3 * 32 * 32, 0), [2, 3, 32, 32]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([500n, 20n]), [2]),
      encoder_hidden_states: new ort.Tensor('float32', wave(2 * 16 * 128, 1), [2, 16, 128]),
    };
    const outputs: Float32Array[] = [];
    for (const provider of ['cpu', 'webgpu'] as const) {
      const handle = await createSession(folder.unetPath, provider);
      assert.equal(handle.provider, provider);
      outputs.push(Float32Array.from((await handle.session.run(feeds)).out_sample.data as Float32Array));
      await handle.session.release();
    }
    const diff = relativeDiff(outputs[0], outputs[1]);
    assert.ok(diff < TOLERANCE, `out_sample differs by ${diff} of its largest value`);
  });

  test('the instrumented pipeline gives the CPU image and maps, inputs kept on the device', async (t) => {
    if (skipped(t)) return;
    const cpu = await sample(await Pipeline.load(folder, { provider: 'cpu' }));
    const pipeline = await Pipeline.load(folder, { provider: 'webgpu' });
    assert.equal(pipeline.provider.name, 'webgpu');
    assert.deepEqual(pipeline.provider.fallbacks, []);
    assert.equal(pipeline.deviceInputs.resident, true, pipeline.deviceInputs.reason);
    const gpu = await sample(pipeline);
    assert.equal(gpu.maps.length, cpu.maps.length);
    gpu.maps.forEach((layers, step) =>
      layers.forEach((probs, layer) => {
        const diff = relativeDiff(cpu.maps[step][layer], probs);
        assert.ok(diff < TOLERANCE, `step ${step}, layer ${layer}: maps differ by ${diff} of their largest value`);
      }),
    );
    // 8-bit images: a rounding step apart at most.
    assert.ok(maxPixelDiff(cpu.image, gpu.image) <= 2, 'image');
    assert.ok(maxPixelDiff(cpu.overlay, gpu.overlay) <= 2, 'image with a key overlay');
  });

  test('keeping the constant inputs on the device changes nothing', async (t) => {
    if (skipped(t)) return;
    const pipeline = await Pipeline.load(folder, { provider: 'webgpu', deviceInputs: false });
    assert.equal(pipeline.deviceInputs.resident, false);
    const host = await sample(pipeline);
    const device = await sample(await Pipeline.load(folder, { provider: 'webgpu' }));
    assert.deepEqual(device.image, host.image);
    assert.deepEqual(device.overlay, host.overlay);
    device.maps.forEach((layers, step) => layers.forEach((probs, layer) => assert.ok(relativeDiff(host.maps[step][layer], probs) < 1e-6)));
  });

  test('the finetune\'s gradient models run on the device with the CPU\'s loss and gradients (one run, and with L_norm)', async (t) => {
    if (skipped(t)) return;
    const prompt = { text: 'red circle and blue square', objects: [{ word: 'circle', start: 4, end: 10 }, { word: 'square', start: 20, end: 26 }] };
    const results = [];
    for (const provider of ['cpu', 'webgpu'] as const) {
      const pipeline = await Pipeline.load(folder, { provider });
      const trainer = await SepEnTrainer.create(pipeline);
      const prepared = await trainer.prepare([prompt], true);
      const lossLayers = await trainer.lossLayers(prepared[0]);
      const batch = trainer.sampleBatch(prepared, new Rng(3), 0, { batch: 2, x0Scale: x0ScaleFor(pipeline) });
      const runs = [];
      for (const normWeight of [0, 2]) runs.push(await trainer.evaluate(batch, trainer.baseKeySet(), lossLayers, { ...defaultFinetuneOptions, normWeight }));
      await trainer.release();
      results.push(runs);
    }
    const [cpu, gpu] = results;
    cpu.forEach((run, i) => {
      const label = i === 0 ? 'one run' : 'with L_norm';
      assert.ok(Math.abs(run.loss - gpu[i].loss) <= TOLERANCE * Math.abs(run.loss), `${label}: loss ${gpu[i].loss} on WebGPU, ${run.loss} on CPU`);
      assert.deepEqual([...gpu[i].grads.keys()], [...run.grads.keys()]);
      for (const [layer, g] of run.grads) {
        const diff = relativeDiff(g, gpu[i].grads.get(layer) as Float64Array);
        assert.ok(diff < 1e-2, `${label}, ${layer}: gradients differ by ${diff} of their largest value`);
      }
      console.log(`gradient model on WebGPU, ${label}: loss ${gpu[i].loss.toFixed(6)} vs CPU ${run.loss.toFixed(6)}; worst layer ${Math.max(...[...run.grads].map(([l, g]) => relativeDiff(g, gpu[i].grads.get(l) as Float64Array))).toExponential(1)}`);
    });
  });

  test('a Stable Diffusion export traced in half precision runs in float16 on the device, float16 keys resident', async (t) => {
    if (skipped(t)) return;
    // optimum --fp16 writes these for GPUs; the CPU provider computes the float16 kernels it lacks in float32.
    const dir = copyFixture(SD_TINY, 'pl-webgpu-half-');
    for (const m of SD_MODELS) toHalfPrecisionExport(path.join(dir, m, 'model.onnx'));
    const half = await openModelFolder(dir);
    const pipeline = await Pipeline.load(half, { provider: 'webgpu' });
    assert.deepEqual([pipeline.provider.name, pipeline.provider.fallbacks, pipeline.deviceInputs.resident], ['webgpu', [], true]);
    assert.ok(pipeline.instrumented.layers.every((l) => l.keyDtype === 'float16'));
    const cpuPipeline = await Pipeline.load(half, { provider: 'cpu' });
    const request: GenerateRequest = { prompt: 'a photo of a cat and a dog', negativePrompt: '', seed: 7, steps: 1, guidance: 7.5, eta: 0, size: { width: 64, height: 64 } };
    const keys = new Map(pipeline.instrumented.layers.map((l, i) => [l.name, wave(l.keyShape[0] * l.keyShape[1], i).map((v) => 0.05 * v)]));
    for (const run of [request, { ...request, keys }]) {
      const [gpu, cpu] = [await generateWithCaptures(pipeline, run), await generateWithCaptures(cpuPipeline, run)];
      const imageDiff = maxPixelDiff(cpu.out.image.data, gpu.out.image.data);
      const mapsDiff = maxCaptureDiff(gpu.steps, cpu.steps);
      console.log(`half precision, ${run.keys ? 'with' : 'without'} a key overlay: WebGPU vs CPU image ${imageDiff} levels, maps ${mapsDiff.toExponential(1)}`);
      // float16 arithmetic on the device against float32 on the CPU. Measured 3-4 levels; maps 1.6e-2 with the
      // random-weight keys' peaked scores, 4e-4 with the small overlay keys.
      assert.ok(imageDiff <= 10 && mapsDiff <= 5e-2, `${run.keys ? 'with' : 'without'} a key overlay: image ${imageDiff} levels, maps ${mapsDiff}`);
    }
  });

  test('auto takes WebGPU only where a GPU device exists, saying why it skipped the others', async () => {
    const handle = await createSession(folder.textEncoderPath, 'auto');
    await handle.session.release();
    const why = handle.fallbacks.join('; ');
    if (process.platform === 'linux' && gpuDeviceNodes().length === 0) {
      // Any adapter here is lavapipe, Vulkan on the CPU: slower than the CPU provider.
      assert.equal(handle.provider, 'cpu', why);
      assert.match(why, /webgpu: no GPU device/);
    } else if (!unavailable) {
      assert.notEqual(handle.provider, 'cpu', why);
    }
    if (handle.provider !== 'cuda') assert.match(handle.fallbacks[0] ?? '', /^cuda: /);
  });
});
