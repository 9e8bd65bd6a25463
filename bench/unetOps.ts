// Where a UNet call's time goes, in the engine (onnxruntime, the graph the pipeline runs) and in the PyTorch
// reference sampler's UNet, class by class, on the same weights, inputs and threads; and what that bounds.
//   npm run bench:unet-ops [-- --batch 2,16 --threads 1 --rounds 3]
// Batch 2 is one seed with guidance (the one-seed generation); 16 is the 16-seed sweep's UNet call on the
// embedded model (8 seeds with guidance). `npm run bench` compares whole generations; this says why its ratios
// are what they are: the class a speed-up would have to come from, and how much of the call it is.
// The peer needs the model's training weights and /usr/bin/python3 with torch (prompt_lens_py/reference/profile_unet.py).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { loadOriginalKeys } from '../src/engine/onnx/instrument';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { inputType, integerTensor, keyFeedsFor } from '../src/engine/pipeline/tensors';
import { Rng } from '../src/engine/random';
import { atenOpClass, byClass, OP_CLASSES, ortKernelTimes, ortOpClass, type OpClass } from './opClasses';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'models', 'tiny-shapes');
const PROMPT = 'a red circle and a blue square';
const TIMESTEP = 500;
/** Calls per timing and per profile. */
const CALLS = 20;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

interface PeerProfile {
  callMs: number;
  classes: Record<OpClass, number>;
}

/** The PyTorch UNet at `batch`: its call time and profile, or why it could not run. */
function peerProfile(batch: number, threads: number): PeerProfile | { skipped: string } {
  const weights = path.join(MODEL, 'train', 'weights-fp16.pt');
  if (!existsSync(weights)) return { skipped: `${weights} is missing` };
  const t = String(threads);
  const run = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-m', 'prompt_lens_py.reference.profile_unet', '--model', MODEL, '--weights', weights,
    '--prompt', PROMPT, '--batch', String(batch), '--calls', String(CALLS), '--threads', t, '--timestep', String(TIMESTEP)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
  });
  if (run.status !== 0) return { skipped: (run.error?.message ?? run.stderr).trim().split('\n').pop() ?? `exit ${run.status}` };
  const answer = JSON.parse(run.stdout) as { call_ms: number; self_ms: Record<string, number> };
  return { callMs: answer.call_ms, classes: byClass(Object.entries(answer.self_ms), atenOpClass) };
}

/** The feeds of one UNet call at `batch`: unconditional half first, seeds' noise drawn as the pipeline draws it. */
async function unetFeeds(pipeline: Pipeline, session: ort.InferenceSession, batch: number): Promise<Record<string, ort.Tensor>> {
  const [c, h, w] = pipeline.sampleShape(undefined);
  const half = Math.floor(batch / 2);
  const text = await pipeline.encodeText([...Array<string>(batch - half).fill(''), ...Array<string>(half).fill(PROMPT)]);
  const sample = new Float32Array(batch * c * h * w);
  for (let b = 0; b < batch; b++) sample.set(new Rng(b).normals(c * h * w), b * c * h * w);
  return {
    sample: new ort.Tensor('float32', sample, [batch, c, h, w]),
    timestep: integerTensor(inputType(session, 'timestep'), Array<number>(batch).fill(TIMESTEP), [batch]),
    encoder_hidden_states: new ort.Tensor('float32', text.embeddings, text.dims),
    ...keyFeedsFor(pipeline.instrumented, await loadOriginalKeys(pipeline.instrumented)),
  };
}

async function timeCalls(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  await session.run(feeds, ['out_sample']);
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await session.run(feeds, ['out_sample']);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Kernel ms per class and call of the pipeline's UNet graph, from onnxruntime's profiler. */
async function engineProfile(graph: string, threads: number, feeds: Record<string, ort.Tensor>): Promise<Record<OpClass, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'prompt-lens-ops-'));
  try {
    const session = await ort.InferenceSession.create(graph, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
    });
    for (let i = 0; i < CALLS; i++) await session.run(feeds, ['out_sample']);
    session.endProfiling();
    await session.release();
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile in ${dir}`);
    return byClass(ortKernelTimes(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), CALLS), ortOpClass);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const threads = Number(option('--threads', '1'));
  const rounds = Number(option('--rounds', '3'));
  const batches = option('--batch', '2,16').split(',').map(Number);
  const pipeline = await Pipeline.load(await openModelFolder(MODEL), { threads });
  console.log(`UNet call of ${path.relative(ROOT, MODEL)}, ${threads} thread(s), timestep ${TIMESTEP}; engine: the pipeline's graph (${pipeline.unetGraph.note}), PyTorch: the reference sampler's UNet, denormals flushed`);
  for (const batch of batches) {
    const feeds = await unetFeeds(pipeline, pipeline.unetSession, batch);
    // Alternated, so load that comes and goes on a shared machine hits both sides.
    const ratios: number[] = [];
    const engineMs: number[] = [];
    const peerMs: number[] = [];
    let peer: PeerProfile | { skipped: string } | undefined;
    for (let r = 0; r < rounds; r++) {
      engineMs.push(await timeCalls(pipeline.unetSession, feeds));
      peer = peerProfile(batch, threads);
      if (!('callMs' in peer)) break;
      peerMs.push(peer.callMs);
      ratios.push(peer.callMs / engineMs[engineMs.length - 1]);
    }
    const engine = await engineProfile(pipeline.unetGraph.path, threads, feeds);
    const mine = median(engineMs);
    console.log(`\nbatch ${batch}: engine ${mine.toFixed(2)} ms per call` + (peer && 'callMs' in peer
      ? `, PyTorch ${median(peerMs).toFixed(2)} ms; engine faster ${median(ratios).toFixed(2)}x (median of ${ratios.length} alternated rounds' ratios)`
      : `; PyTorch not timed: ${peer && 'skipped' in peer ? peer.skipped : 'no rounds'}`));
    const theirs = peer && 'callMs' in peer ? peer.classes : undefined;
    const total = (c: Record<OpClass, number>): number => OP_CLASSES.reduce((s, k) => s + c[k], 0);
    console.log(`  ms per call by class, profiled (a profiler adds its own cost per operator, most to the small ones):`);
    console.log(`    ${'class'.padEnd(34)}${'engine'.padStart(8)}${theirs ? 'PyTorch'.padStart(9) : ''}`);
    for (const k of [...OP_CLASSES, 'all'] as const) {
      const e = k === 'all' ? total(engine) : engine[k];
      const t = theirs && (k === 'all' ? total(theirs) : theirs[k]);
      console.log(`    ${k.padEnd(34)}${e.toFixed(2).padStart(8)}${t === undefined ? '' : t.toFixed(2).padStart(9)}`);
    }
    if (peer && 'callMs' in peer && theirs) {
      const heavy = (c: Record<OpClass, number>): number => c.convolution + c['matrix products'];
      const needed = median(peerMs) / 2;
      console.log(`  2x PyTorch needs an engine call of <= ${needed.toFixed(2)} ms; the engine's convolution and matrix-product kernels take ${heavy(engine).toFixed(2)} ms of it (PyTorch's: ${heavy(theirs).toFixed(2)} ms), leaving ${(needed - heavy(engine)).toFixed(2)} ms for the other classes, whose kernels take ${(total(engine) - heavy(engine)).toFixed(2)} ms (PyTorch's: ${(total(theirs) - heavy(theirs)).toFixed(2)} ms)`);
    }
  }
  await pipeline.release();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
