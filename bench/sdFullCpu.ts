// Benchmark: the SD 1.5-sized UNet on the CPU against PyTorch eager on the same weights and threads.
//   npm run bench:sd-full                       (skips, saying how to make it, when the export is absent)
//   node out/bench/sdFullCpu.js [MODEL_DIR] [--threads T] [--repeats N]
// MODEL_DIR defaults to /tmp/sd-full, made (random weights, ~4 GB, never commit) from the repository root by
//   python3 -m prompt_lens_py.fixtures.sd_fixture --full-size --external-data --no-verify --out /tmp/sd-full
// Prints, in one process:
//   load       a plain session, the instrumentation + session with no cached copy, and again with the copy cached
//   one step   512 px, batch 2: plain graph, instrumented graph (without and with every layer's maps fetched) and
//              prompt_lens_py.reference.unet_step_server (the fixture's modules rebuilt from its seed, denormals
//              flushed), 1 warm-up then N timed calls each, interleaved; medians; sum |out| of both sides compared
//   analysis   AttentionAnalysis on one real step's maps handed over as 20 steps, and the record's pictures
//   peak RSS   of this process (one session held at a time) and of the PyTorch peer
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-node';
import { instrumentUnet, loadOriginalKeys } from '../src/engine/onnx/instrument';
import { floatTensor, inputShape, inputType, integerTensor, keyTensor } from '../src/engine/pipeline/tensors';
import type { RasterImage } from '../src/engine/image/png';
import { renderPictures, type PictureSpec } from '../src/engine/image/runPictures';
import { queryGrid } from '../src/engine/pipeline/pipeline';
import { AttentionAnalysis } from '../src/engine/run/attentionAnalysis';
import { createSession } from '../src/engine/session/createSession';
import { ClipTokenizer } from '../src/engine/tokenizer/clipTokenizer';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback;
};
const THREADS = option('--threads', 2);
const REPEATS = option('--repeats', 3);
const MODEL = path.resolve(args[0] ?? '/tmp/sd-full');
const UNET = path.join(MODEL, 'unet', 'model.onnx');
const LATENT = 64; // 512 px
const TEXT_LENGTH = 77;

/** The deterministic inputs unet_step_server.py feeds too: amplitude * fn(scale * i), in float64 then float32. */
function pattern(n: number, scale: number, amplitude: number, fn: (x: number) => number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amplitude * fn(i * scale));
}

function absSum(data: Float32Array): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += Math.abs(data[i]);
  return s;
}

/** The PyTorch peer as a child process answering one "step" at a time (so its calls interleave with the engine's). */
class TorchPeer {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(): Promise<{ peer: TorchPeer; ready: { load_ms: number; torch: string } }> {
    const threads = String(THREADS);
    const child = spawn('/usr/bin/python3', ['-W', 'ignore', '-m', 'prompt_lens_py.reference.unet_step_server', '--threads', threads, '--size', String(LATENT)], {
      cwd: ROOT,
      env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const peer = new TorchPeer(child);
    return { peer, ready: (await peer.answer()) as { load_ms: number; torch: string } };
  }

  private async answer(): Promise<unknown> {
    const next = await this.lines.next();
    if (next.done) throw new Error('the PyTorch peer exited early (see its output above)');
    return JSON.parse(next.value);
  }

  async step(): Promise<{ ms: number; abs_sum: number; peak_rss_mib: number }> {
    this.child.stdin.write('step\n');
    return (await this.answer()) as { ms: number; abs_sum: number; peak_rss_mib: number };
  }

  quit(): void {
    this.child.stdin.end('quit\n');
  }
}

/** Removes the instrumented copies beside the UNet so the next load instruments from scratch. */
function dropInstrumentedCopies(): void {
  const dir = path.dirname(UNET);
  for (const name of readdirSync(dir)) if (name.includes('.prompt-lens-')) rmSync(path.join(dir, name));
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
}

interface Step {
  ms: number;
  sum: number;
}

async function engineStep(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<Step> {
  const t0 = performance.now();
  const out = await session.run(feeds, fetches);
  const ms = performance.now() - t0;
  return { ms, sum: absSum(out.out_sample.data as Float32Array) };
}

/** 1 warm-up + REPEATS timed rounds, each round every engine variant then the PyTorch peer; medians. */
async function interleaved(peer: TorchPeer, variants: (() => Promise<Step>)[]): Promise<{ engine: number[]; torch: number; sums: { engine: number; torch: number } }> {
  const engine: number[][] = variants.map(() => []);
  const torch: number[] = [];
  let sums = { engine: 0, torch: 0 };
  for (let r = 0; r <= REPEATS; r++) {
    const steps: Step[] = [];
    for (const variant of variants) steps.push(await variant());
    const t = await peer.step();
    sums = { engine: steps[0].sum, torch: t.abs_sum };
    if (r === 0) continue; // warm-up
    steps.forEach((step, i) => engine[i].push(step.ms));
    torch.push(t.ms);
  }
  return { engine: engine.map(median), torch: median(torch), sums };
}

const ANALYSIS_PROMPT = 'a photo of a cat and a dog';
const ANALYSIS_STEPS = 20;

/**
 * AttentionAnalysis (what a run does at every step and at its end) on the conditional half of one real step's maps,
 * handed over as each of ANALYSIS_STEPS steps, and the run record's pictures of its display maps.
 */
async function timeAnalysis(out: ort.InferenceSession.ReturnType, outputs: string[]): Promise<{ perStepMs: number; finishMs: number; picturesMs: number; pictures: number }> {
  const tokenizer = await ClipTokenizer.fromFolder(path.join(MODEL, 'tokenizer'), TEXT_LENGTH);
  const tokenized = tokenizer.encode(ANALYSIS_PROMPT);
  const objects = ['cat', 'dog'].map((word) => ({ word, start: ANALYSIS_PROMPT.indexOf(word), end: ANALYSIS_PROMPT.indexOf(word) + word.length }));
  const captures = outputs.map((name) => {
    const tensor = out[name] as ort.Tensor;
    const [, heads, queries, tokens] = tensor.dims;
    const [gridH, gridW] = queryGrid(queries, LATENT, LATENT);
    const perSample = heads * queries * tokens;
    return { layer: name.replace('prompt_lens.probs.', ''), gridH, gridW, heads, tokens, probs: (tensor.data as Float32Array).subarray(perSample, 2 * perSample) };
  });
  const analysis = new AttentionAnalysis({ prompt: ANALYSIS_PROMPT, objects, tokenized, steps: ANALYSIS_STEPS, sampleH: LATENT, sampleW: LATENT, storeAttention: true });
  const t0 = performance.now();
  for (let step = 0; step < ANALYSIS_STEPS; step++) analysis.onAttention(captures.map((c) => ({ ...c, step, timestep: 999 - 50 * step })));
  const t1 = performance.now();
  const result = analysis.finish();
  const t2 = performance.now();
  const image: RasterImage = { width: 8 * LATENT, height: 8 * LATENT, channels: 3, data: new Uint8Array(64 * LATENT * LATENT * 3).fill(128) };
  const maps = result.words.flatMap((w, i): PictureSpec['maps'] => [{ file: `${i}.png`, kind: 'heat', map: w.map }, { file: `${i}-overlay.png`, kind: 'overlay', map: w.map }]);
  const pictures = renderPictures({ image, mapHeight: result.mapHeight, mapWidth: result.mapWidth, maps, imageFile: 'image.png', largeFile: 'image-large.png' });
  return { perStepMs: (t1 - t0) / ANALYSIS_STEPS, finishMs: t2 - t1, picturesMs: performance.now() - t2, pictures: pictures.length };
}

async function main(): Promise<void> {
  if (!existsSync(UNET)) {
    console.log(`skipped: no SD 1.5-sized export at ${MODEL}. Make one (random weights, ~4 GB on disk, ~8 GB RAM, a few minutes) from the repository root with\n` +
      `  python3 -m prompt_lens_py.fixtures.sd_fixture --full-size --external-data --no-verify --out ${MODEL}`);
    return;
  }
  // The peer first: its module build would otherwise compete with the timed loads.
  const { peer, ready } = await TorchPeer.start();
  // One session at a time (each holds the 3.4 GB of weights and more): plain, then instrumented.
  const plainLoad = await timed(() => createSession(UNET, 'cpu', THREADS));
  const plain = plainLoad.value.session;
  const textDim = Number(inputShape(plain, 'encoder_hidden_states')[2]);
  const base = {
    sample: floatTensor(plain, 'sample', pattern(2 * 4 * LATENT * LATENT, 0.001, 1, Math.sin), [2, 4, LATENT, LATENT]),
    timestep: integerTensor(inputType(plain, 'timestep'), [500, 500], [2]),
    encoder_hidden_states: floatTensor(plain, 'encoder_hidden_states', pattern(2 * TEXT_LENGTH * textDim, 0.01, 0.5, Math.cos), [2, TEXT_LENGTH, textDim]),
  };
  const plainSteps = await interleaved(peer, [() => engineStep(plain, base, ['out_sample'])]);
  await plain.release();

  dropInstrumentedCopies();
  const cold = await timed(async () => {
    const instrumented = await timed(() => instrumentUnet(UNET, { perHead: true }));
    const handle = await createSession(instrumented.value.path, 'cpu', THREADS);
    return { instrumentMs: instrumented.ms, handle };
  });
  await cold.value.handle.session.release();
  const warm = await timed(async () => {
    const instrumented = await timed(() => instrumentUnet(UNET, { perHead: true }));
    const handle = await createSession(instrumented.value.path, 'cpu', THREADS);
    return { instrumentMs: instrumented.ms, inst: instrumented.value, handle };
  });
  const instrumented = warm.value.handle.session;
  const { inst } = warm.value;
  const keys = await loadOriginalKeys(inst);
  const feeds: Record<string, ort.Tensor> = { ...base };
  for (const layer of inst.layers) feeds[layer.keyInput] = keyTensor(layer, keys.get(layer.name) as Float32Array);
  const maps = inst.layers.map((l) => l.probsOutput);
  const instSteps = await interleaved(peer, [() => engineStep(instrumented, feeds, ['out_sample']), () => engineStep(instrumented, feeds, ['out_sample', ...maps])]);
  const torchRss = (await peer.step()).peak_rss_mib;
  peer.quit();
  const analysis = await timeAnalysis(await instrumented.run(feeds, ['out_sample', ...maps]), inst.layers.map((l) => l.probsOutput));
  await instrumented.release();
  const peakRss = process.resourceUsage().maxRSS / 1024;

  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`SD 1.5-sized UNet (${MODEL}), CPU, ${THREADS} thread(s), node ${process.version}, onnxruntime-node ${ort.env.versions.common}, PyTorch ${ready.torch} eager (denormals flushed), ${inst.layers.length} cross-attention layers`);
  console.log(`load: plain session ${s(plainLoad.ms)}; instrumented, no cached copy ${s(cold.ms)} (instrumentation ${s(cold.value.instrumentMs)}); instrumented, copy cached ${s(warm.ms)} (cache check ${s(warm.value.instrumentMs)}); PyTorch module build ${s(ready.load_ms)}`);
  console.log(`one UNet step, 512 px, batch 2 (median of ${REPEATS} after a warm-up, each interleaved with PyTorch eager on the same inputs):`);
  const line = (what: string, ms: number, torch: number): void =>
    console.log(`  engine, ${what}: ${s(ms)}; PyTorch eager ${s(torch)}; speed-up ${(torch / ms).toFixed(2)}x (target >= 1.3x)`);
  line('plain graph', plainSteps.engine[0], plainSteps.torch);
  line('instrumented, no maps fetched', instSteps.engine[0], instSteps.torch);
  line("instrumented + every layer's maps", instSteps.engine[1], instSteps.torch);
  const overhead = (ms: number): string => `${((ms / instSteps.torch / (plainSteps.engine[0] / plainSteps.torch) - 1) * 100).toFixed(1)}%`;
  console.log(`  instrumented against plain, each relative to its interleaved PyTorch step: ${overhead(instSteps.engine[0])} without maps, ${overhead(instSteps.engine[1])} with every layer's maps`);
  const { engine, torch } = instSteps.sums;
  console.log(`  same weights: sum |out| engine ${engine.toExponential(6)}, PyTorch ${torch.toExponential(6)} (relative difference ${(Math.abs(engine - torch) / torch).toExponential(1)})`);
  const stepMs = instSteps.engine[1];
  console.log(`capture analysis on this step's real maps (16 layers, fed as ${ANALYSIS_STEPS} steps of "${ANALYSIS_PROMPT}", attention store kept): ${analysis.perStepMs.toFixed(1)} ms per step (${((analysis.perStepMs / stepMs) * 100).toFixed(2)}% of the instrumented step), finish ${analysis.finishMs.toFixed(1)} ms per run`);
  console.log(`  a ${ANALYSIS_STEPS}-step run's capture + analysis against its sampling: ${(((analysis.perStepMs * ANALYSIS_STEPS + analysis.finishMs) / (stepMs * ANALYSIS_STEPS)) * 100).toFixed(2)}% (plus the maps' fetch, in the step times above); its record's ${analysis.pictures} pictures take ${analysis.picturesMs.toFixed(0)} ms to render, on the record thread, beside the next batch's sampling`);
  console.log(`peak RSS: engine process ${(peakRss / 1024).toFixed(2)} GiB (one session at a time), PyTorch peer ${(torchRss / 1024).toFixed(2)} GiB`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
