// Finetune step time on the embedded model: the engine (onnxruntime-node, the gradient model: full backprop)
// against the PyTorch full-autograd reference step, in one run on the same machine and threads.
//   npm run bench:finetune-step [-- --steps N --threads T]
// The reference needs Debian's python3-torch (`/usr/bin/python3`); without it only the engine is timed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor } from '../src/engine/finetune/trainer';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const steps = option('--steps', 30);
  const threads = option('--threads', 2);
  const batch = option('--batch', 4);
  const modelArg = process.argv.indexOf('--model');
  const embedded = path.join(ROOT, 'models', 'tiny-shapes');
  const model = modelArg > 0 ? path.resolve(process.argv[modelArg + 1]) : embedded;
  const pipeline = await Pipeline.load(await openModelFolder(model), { threads });
  const trainer = await SepEnTrainer.create(pipeline);
  const prompts = [
    { text: 'a red circle and a blue square', objects: [{ word: 'circle', start: 6, end: 12 }, { word: 'square', start: 24, end: 30 }] },
    { text: 'a green triangle and a yellow circle', objects: [{ word: 'triangle', start: 8, end: 16 }, { word: 'circle', start: 30, end: 36 }] },
  ];
  const result = await trainer.train(prompts, { ...defaultFinetuneOptions, x0Scale: x0ScaleFor(pipeline), steps, batch, lr: 1e-3 });
  // The first step builds (or loads) the gradient model and warms the sessions up; the reference excludes its first 5.
  const warm = Math.min(5, steps - 1);
  const engineMs = median(result.curve.slice(warm).map((s) => s.ms));
  console.log(`engine (onnxruntime-node ${pipeline.provider.name}, ${threads} threads, full UNet gradient): ${engineMs.toFixed(1)} ms/step (batch ${batch}, median of ${steps - warm}); first step ${result.curve[0].ms.toFixed(0)} ms`);
  console.log(`  200 steps ≈ ${((engineMs * 200) / 1000).toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GB`);
  if (model !== embedded) return;

  const out = mkdtempSync(path.join(tmpdir(), 'prompt-lens-ref-'));
  const ref = spawnSync(
    '/usr/bin/python3',
    ['-m', 'prompt_lens_py.reference.finetune', '--steps', String(steps), '--batch', String(batch), '--threads', String(threads), '--eval-every', '0', '--eval-samples', '1', '--quiet', '--out', out],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) } },
  );
  if (ref.status !== 0) {
    console.log(`PyTorch reference not timed: ${(ref.stderr || ref.error?.message || '').trim().split('\n').pop()}`);
    return;
  }
  const log = JSON.parse(readFileSync(path.join(out, 'log.json'), 'utf8')) as { timing: { ms_per_step_median: number } };
  const refMs = log.timing.ms_per_step_median;
  console.log(`PyTorch reference (${threads} threads, full autograd): ${refMs.toFixed(1)} ms/step`);
  console.log(`ratio engine / reference: ${(engineMs / refMs).toFixed(2)} (target <= 1)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
