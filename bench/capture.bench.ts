// Benchmark: end-to-end run time on the embedded model, and what attention capture costs.
//   npm run bench            (prints figures and ratios; not a timed test)
//   node out/bench/capture.bench.js [MODEL_DIR] [--threads T]   (default: the embedded model, 1 thread for
//                                                   the peer comparison; one model per process, so the peak
//                                                   RSS is that model's)
// Compares, in one process on the same inputs:
//   plain      the user's UNet graph as exported (key weights as initializers, no extra outputs)
//   captured   the instrumented graph fetching every layer's probabilities + the streaming analysis
// and reports the peak RSS of a 50-step run (bounded by the streaming aggregation). The whole-run overhead of capture +
// analysis is printed as a ratio (target <= 1.10x) for a single run and for the product's sweep, whose time per image
// is also split by stage.
// Fair peer: 20-step, guidance-2 generation against the PyTorch reference sampler on the same weights and
// thread count, denormals flushed (python3 -m prompt_lens_py.reference.time_sampler --serve, bench/torchPeer.ts),
// alternated round by round, when the model folder has its training weights (train/weights-fp16.pt) and
// /usr/bin/python3 has torch. The product's
// 16-seed sweep (runPromptSeeds, what `prompt-lens run` does) is timed batched and one seed per run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { loadOriginalKeys } from '../src/engine/onnx/instrument';
import { inputType, integerTensor, keyFeedsFor } from '../src/engine/pipeline/tensors';
import { Pipeline, type GenerateTimings } from '../src/engine/pipeline/pipeline';
import { PipelineCache } from '../src/engine/pipeline/pipelineCache';
import { runPrompt, runPromptSeeds } from '../src/engine/run/runPrompt';
import { AttentionAnalysis } from '../src/engine/run/attentionAnalysis';
import { startBatchAnalysis } from '../src/engine/run/analysisThread';
import { TorchPeer } from './torchPeer';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const threadsAt = args.indexOf('--threads');
const PEER_THREADS = threadsAt >= 0 ? Number(args.splice(threadsAt, 2)[1]) : 1;
const MODEL = path.resolve(args[0] ?? path.join(ROOT, 'models', 'tiny-shapes'));
const PROMPT = 'a red circle and a blue square';
const OBJECTS = [
  { word: 'circle', start: 6, end: 12 },
  { word: 'square', start: 24, end: 30 },
];
const REPEATS = 5;
/**
 * Interleaved plain/captured run pairs. The ratio printed is the median of the pairs' own ratios: on shared cores
 * whose speed drifts within seconds, a ratio of two medians swung 1.10-1.30 between runs of the same build.
 */
const RUN_REPEATS = 25;

/** The first and third quartiles, "a-b". */
function quartiles(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 4)].toFixed(3)}-${s[Math.floor((3 * s.length) / 4)].toFixed(3)}`;
}

async function timeUnetCalls(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: string[], calls: number): Promise<number> {
  await session.run(feeds, fetches); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await session.run(feeds, fetches);
  return (performance.now() - t0) / calls;
}

async function main(): Promise<void> {
  const loadStart = performance.now();
  const model = await openModelFolder(MODEL);
  const pipeline = await Pipeline.load(model);
  const loadMs = performance.now() - loadStart;

  // 1. UNet call, plain graph vs instrumented graph fetching every probability output.
  const plain = await ort.InferenceSession.create(model.unetPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const instrumented = await ort.InferenceSession.create(pipeline.instrumented.path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const folded = await ort.InferenceSession.create(pipeline.unetGraph.path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const [c, h, w] = pipeline.sampleShape(undefined);
  const text = await pipeline.encodeText(['', PROMPT]);
  const base = {
    sample: new ort.Tensor('float32', new Float32Array(2 * c * h * w).fill(0.1), [2, c, h, w]),
    timestep: integerTensor(inputType(plain, 'timestep'), [500, 500], [2]),
    encoder_hidden_states: new ort.Tensor('float32', text.embeddings, text.dims),
  };
  const keyFeeds = keyFeedsFor(pipeline.instrumented, await loadOriginalKeys(pipeline.instrumented));
  const probs = pipeline.instrumented.layers.map((l) => l.probsOutput);
  const plainMs: number[] = [];
  const capturedMs: number[] = [];
  const unfetchedMs: number[] = [];
  const foldedMs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    plainMs.push(await timeUnetCalls(plain, base, ['out_sample'], 40));
    unfetchedMs.push(await timeUnetCalls(instrumented, { ...base, ...keyFeeds }, ['out_sample'], 40));
    capturedMs.push(await timeUnetCalls(instrumented, { ...base, ...keyFeeds }, ['out_sample', ...probs], 40));
    foldedMs.push(await timeUnetCalls(folded, { ...base, ...keyFeeds }, ['out_sample', ...probs], 40));
  }

  // 2. Whole runs: 20 steps (the example file's setting), with and without capture + analysis (the attention
  //    store kept, as the product keeps it), interleaved so that load on the machine hits both alike.
  const request = { prompt: PROMPT, negativePrompt: '', seed: 7, steps: 20, guidance: 4, eta: 0 };
  const runPlainMs: number[] = [];
  const runFetchedMs: number[] = [];
  const runCapturedMs: number[] = [];
  await pipeline.generate(request); // warm-up
  for (let r = -1; r < RUN_REPEATS; r++) {
    let t0 = performance.now();
    await pipeline.generate(request);
    runPlainMs.push(performance.now() - t0);
    // The maps fetched and dropped: what the UNet's extra outputs cost without any analysis.
    t0 = performance.now();
    await pipeline.generate(request, { onAttention: () => undefined });
    runFetchedMs.push(performance.now() - t0);
    t0 = performance.now();
    const tokenized = pipeline.tokenizer.encode(PROMPT);
    // As runs analyse: on the analysis thread, beside the next UNet step.
    const analysis = startBatchAnalysis([{ prompt: PROMPT, objects: OBJECTS, tokenized, steps: 20, sampleH: h, sampleW: w, storeAttention: true }]);
    await pipeline.generate(request, { onAttention: (captures) => analysis.onAttention(0, captures) });
    await analysis.finish();
    runCapturedMs.push(performance.now() - t0);
    // The first pair warms the captured path up (the analysis thread starts): not counted.
    if (r < 0) [runPlainMs.length, runFetchedMs.length, runCapturedMs.length] = [0, 0, 0];
  }

  // 3. A 50-step captured run: peak RSS stays flat because maps are folded per step.
  const rssBefore = process.memoryUsage().rss;
  const tokenized = pipeline.tokenizer.encode(PROMPT);
  const analysis50 = new AttentionAnalysis({ prompt: PROMPT, objects: OBJECTS, tokenized, steps: 50, sampleH: h, sampleW: w });
  await pipeline.generate({ ...request, steps: 50 }, { onAttention: analysis50.onAttention });
  analysis50.finish();
  const peakRss = process.resourceUsage().maxRSS * 1024;

  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  console.log(`model: ${model.id} (${model.hash}), provider ${pipeline.provider.name}, node ${process.version}, ${pipeline.instrumented.layers.length} cross-attention layers`);
  console.log(`load (instrument + sessions): ${ms(loadMs)}`);
  console.log(`UNet call, batch 2, plain graph:              ${ms(median(plainMs))}`);
  console.log(`UNet call, batch 2, instrumented, no fetch:   ${ms(median(unfetchedMs))}`);
  console.log(`UNet call, batch 2, instrumented + all maps:  ${ms(median(capturedMs))}`);
  console.log(`  capture overhead per call: ${((median(capturedMs) / median(plainMs) - 1) * 100).toFixed(1)}%`);
  console.log(`UNet graph the pipeline runs: ${pipeline.unetGraph.note}`);
  console.log(`UNet call, batch 2, that graph + all maps:    ${ms(median(foldedMs))} (${(median(capturedMs) / median(foldedMs)).toFixed(3)}x faster than unfolded)`);
  console.log(`20-step run, the pipeline's graph, no maps fetched: ${ms(median(runPlainMs))}`);
  console.log(`20-step run with capture + analysis: ${ms(median(runCapturedMs))}`);
  const pairRatios = runCapturedMs.map((captured, i) => captured / runPlainMs[i]);
  const fetchRatios = runFetchedMs.map((fetched, i) => fetched / runPlainMs[i]);
  console.log(`  whole-run overhead of capture + analysis: ${median(pairRatios).toFixed(3)}x (target <= 1.10x; median of ${RUN_REPEATS} interleaved pairs' ratios, quartiles ${quartiles(pairRatios)})`);
  console.log(`  of which fetching the maps (dropped unanalysed): ${median(fetchRatios).toFixed(3)}x (quartiles ${quartiles(fetchRatios)})`);
  console.log(`50-step captured run: RSS before ${mb(rssBefore)}, peak RSS of the process ${mb(peakRss)}`);
  await comparePeer();
}

const PEER_PROMPT = (seed: number) => ({ prompt: PROMPT, negativePrompt: '', seed, steps: 20, guidance: 2, eta: 0 });

/** Seeds in the sweep comparison (a seed list or a benchmark's prompt), batched by both sides. */
const SWEEP = 16;
/** Product sweeps timed, each followed by the plain one; their ratio is the median of the pairs' own. */
const SWEEP_REPEATS = 5;

/**
 * The product's seed sweep, ms per image: the run behind `prompt-lens run` and Generate on a file listing SWEEP
 * seeds (capture, analysis, detector and run records included), batched as it ships, and the same seeds one run
 * each (how a seed list was sampled before batching). On `PEER_THREADS` threads, after a warm-up run.
 */
async function productSweepMs(): Promise<{ batched: number; plain: number; ratios: number[]; oneByOne: number; batch: number; stages: SweepStages }> {
  const work = mkdtempSync(path.join(tmpdir(), 'prompt-lens-bench-'));
  const seeds = Array.from({ length: SWEEP }, (_, i) => i);
  const request = {
    file: path.join(work, 'sweep.prompt'),
    text: `---\nmodel: ${MODEL}\nseed: [${seeds.join(', ')}]\nsteps: 20\nguidance: 2\n---\na red [circle] and a blue [square]\n`,
    runsDir: path.join(work, 'runs'),
    builtinModelsDir: path.join(ROOT, 'models'),
    provider: 'cpu' as const,
  };
  const pipelines = new PipelineCache({ threads: PEER_THREADS });
  try {
    await runPrompt(request, pipelines); // load + warm-up
    // The product's sweep and the same seeds generated plainly (no maps fetched, no analysis, no records) on the
    // same pipeline, alternated: the ratio is the whole cost of capture, analysis and records per image.
    const pipeline = await pipelines.get(MODEL, 'cpu');
    const batch = pipeline.batchLimit();
    const batchedMs: number[] = [];
    const plainMs: number[] = [];
    let runs: Awaited<ReturnType<typeof runPromptSeeds>> = [];
    for (let r = 0; r < SWEEP_REPEATS; r++) {
      let t0 = performance.now();
      runs = await runPromptSeeds(request, pipelines);
      batchedMs.push((performance.now() - t0) / SWEEP);
      t0 = performance.now();
      for (let seed = 0; seed < SWEEP; seed += batch) {
        await pipeline.generateBatch(Array.from({ length: Math.min(batch, SWEEP - seed) }, (_, i) => PEER_PROMPT(seed + i)));
      }
      plainMs.push((performance.now() - t0) / SWEEP);
    }
    const t0 = performance.now();
    for (const seed of seeds) await runPrompt({ ...request, overrides: { seed } }, pipelines);
    const oneByOne = (performance.now() - t0) / SWEEP;
    const batched = median(batchedMs);
    return { batched, plain: median(plainMs), ratios: batchedMs.map((ms, i) => ms / plainMs[i]), oneByOne, batch: runs[0].result.timings.batchSize, stages: sweepStages(runs.map((r) => r.result.timings), batchedMs[batchedMs.length - 1]) };
  } finally {
    pipelines.clear();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where a batched product sweep's time per image goes (ms), from the runs' own timings and the sweep's wall time. */
interface SweepStages {
  unet: number;
  /** Text encoder and decoder (pixel-space models: the tensor to RGB). */
  encodeDecode: number;
  /** The sampling loop beside the UNet calls: per-step capture and analysis hooks, guidance, the scheduler. */
  perStep: number;
  /** What the sweep spends after sampling and does not hide behind the next batch: finishing the analysis, the detector, records. */
  after: number;
}

function sweepStages(timings: GenerateTimings[], wallPerImage: number): SweepStages {
  const mean = (pick: (t: GenerateTimings) => number): number => timings.reduce((s, t) => s + pick(t), 0) / timings.length;
  const unet = mean((t) => t.unetMs);
  const encodeDecode = mean((t) => t.textEncoderMs + t.decodeMs);
  const total = mean((t) => t.totalMs);
  return { unet, encodeDecode, perStep: total - unet - encodeDecode, after: wallPerImage - total };
}

/** Rounds of the peer comparison; each times the engine's images and then the peer's, on the same seeds. */
const PEER_ROUNDS = 5;
/** One-seed generations per side in a round (the round's figure is their median). */
const SINGLE_IMAGES = 4;

interface PeerRound {
  engine: { single: number; sweep: number };
  peer?: { single: number; sweep: number };
}

/**
 * Engine against the PyTorch reference sampler, ms per image of 20-step generations at guidance 2 on
 * `PEER_THREADS` threads, alternated round by round: one seed per call, and a SWEEP-seed sweep (the engine
 * batched by its pipeline's batch limit, PyTorch SWEEP seeds per call).
 */
async function peerRounds(): Promise<{ rounds: PeerRound[]; batch: number; torch?: string; skipped?: string }> {
  const peer = await TorchPeer.start(ROOT, MODEL, PROMPT, PEER_THREADS);
  const pipeline = await Pipeline.load(await openModelFolder(MODEL), { threads: PEER_THREADS });
  const batch = pipeline.batchLimit();
  const engineSingle = async (): Promise<number> => {
    const times: number[] = [];
    for (let seed = 0; seed < SINGLE_IMAGES; seed++) {
      const t0 = performance.now();
      await pipeline.generate(PEER_PROMPT(seed));
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  const engineSweep = async (): Promise<number> => {
    const t0 = performance.now();
    for (let seed = 0; seed < SWEEP; seed += batch) {
      await pipeline.generateBatch(Array.from({ length: Math.min(batch, SWEEP - seed) }, (_, i) => PEER_PROMPT(seed + i)));
    }
    return (performance.now() - t0) / SWEEP;
  };
  try {
    await engineSingle(); // warm-up
    await engineSweep();
    const rounds: PeerRound[] = [];
    let torch: string | undefined;
    for (let r = 0; r < PEER_ROUNDS; r++) {
      const single = await engineSingle();
      const peerSingle = 'time' in peer ? await peer.time(1, SINGLE_IMAGES) : undefined;
      const sweep = await engineSweep();
      const peerSweep = 'time' in peer ? await peer.time(SWEEP, SWEEP) : undefined;
      torch = peerSingle?.torch;
      rounds.push({ engine: { single, sweep }, ...(peerSingle && peerSweep ? { peer: { single: peerSingle.msPerImage, sweep: peerSweep.msPerImage } } : {}) });
    }
    return { rounds, batch, ...(torch ? { torch } : {}), ...('skipped' in peer ? { skipped: peer.skipped } : {}) };
  } finally {
    if ('stop' in peer) peer.stop();
    await pipeline.release();
  }
}

async function comparePeer(): Promise<void> {
  const { rounds, batch, torch, skipped } = await peerRounds();
  const product = await productSweepMs();
  console.log(`generation, 20 steps, guidance 2, ${PEER_THREADS} thread(s), PyTorch reference sampler on the same weights and threads with denormals flushed, ${PEER_ROUNDS} alternated rounds:`);
  const line = (what: string, pick: (side: { single: number; sweep: number }) => number): void => {
    const mine = median(rounds.map((r) => pick(r.engine)));
    const paired = rounds.filter((r) => r.peer);
    if (!paired.length) {
      console.log(`  ${what}: engine ${mine.toFixed(1)} ms/image; PyTorch not timed: ${skipped}`);
      return;
    }
    const theirs = median(paired.map((r) => pick(r.peer!)));
    const ratios = paired.map((r) => pick(r.peer!) / pick(r.engine));
    console.log(`  ${what}: engine ${mine.toFixed(1)} ms/image; PyTorch ${torch} ${theirs.toFixed(1)} ms/image; speed-up ${median(ratios).toFixed(2)}x (target >= 2x; median of the rounds' ratios, range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
  };
  line(`one seed per call (batch 1; median of ${SINGLE_IMAGES} per round)`, (side) => side.single);
  line(`${SWEEP}-seed sweep (engine ${batch} seeds per UNet call, PyTorch ${SWEEP})`, (side) => side.sweep);
  const peerSweep = rounds.some((r) => r.peer) ? median(rounds.filter((r) => r.peer).map((r) => r.peer!.sweep)) : undefined;
  const against = (mine: number): string => (peerSweep ? `PyTorch sweep ${peerSweep.toFixed(1)} ms/image, speed-up ${(peerSweep / mine).toFixed(2)}x` : `PyTorch not timed: ${skipped}`);
  console.log(`product ${SWEEP}-seed sweep, the run behind prompt-lens run and Generate (capture, analysis, detector, run records; PyTorch samples only):`);
  console.log(`  one seed per run (before batching): engine ${product.oneByOne.toFixed(1)} ms/image; ${against(product.oneByOne)}`);
  console.log(`  batched, ${product.batch} seeds per UNet call (as shipped): engine ${product.batched.toFixed(1)} ms/image; ${against(product.batched)}`);
  console.log(`  batching speed-up of the product sweep: ${(product.oneByOne / product.batched).toFixed(2)}x`);
  const st = product.stages;
  console.log(`  batched, ms per image by stage: UNet ${st.unet.toFixed(1)}, text encoder + decode ${st.encodeDecode.toFixed(1)}, per-step capture + analysis + scheduler ${st.perStep.toFixed(1)}, after sampling (analysis finish, detector, records not overlapped) ${st.after.toFixed(1)}`);
  console.log(`  product sweep against the same seeds generated plainly, batched (no maps fetched, no analysis, no records; ${product.plain.toFixed(1)} ms/image): ${median(product.ratios).toFixed(3)}x (target <= 1.10x; median of ${SWEEP_REPEATS} alternated pairs' ratios, quartiles ${quartiles(product.ratios)})`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
