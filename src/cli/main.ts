// `prompt-lens` CLI: the same engine as the extension, for headless runs, CI and benchmarks.
// Progress goes to stderr; stdout carries only the run folder and report paths, so scripts can read them.
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { PipelineCache } from '../engine/pipeline/pipelineCache';
import { SETTING_DEFAULTS } from '../settingDefaults';
import { timeTaken } from '../engine/report/htmlReport';
import { InputError } from '../engine/files/errors';
import { runFinetune } from '../engine/run/runFinetune';
import { runPromptSeeds } from '../engine/run/runPrompt';
import { seedRanking, seedSummary } from '../engine/run/seedSummary';
import { parseArgs, USAGE, type FinetuneArgs, type RunArgs } from './args';
import { runCancellable } from './cancel';
import { checkModel } from './check';
import { EXIT, failure } from './failure';

/** Headless runs have no editor to keep responsive: every core samples. */
function cliPipelines(): PipelineCache {
  return new PipelineCache({ threads: availableParallelism() });
}

/** dist/cli.js sits one folder below the package root, which holds the embedded models. */
const BUILTIN_MODELS = path.resolve(__dirname, '..', 'models');

async function readPromptFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new InputError(`Cannot read ${file}`);
  }
}

/** Ctrl+C cancels at the next step; the half-written folder is removed, nothing else is touched. */
function cancelOnInterrupt(): AbortSignal {
  const abort = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nCancelling…\n');
    abort.abort();
  });
  return abort.signal;
}

function sayError(line: string): void {
  process.stderr.write(`${line}\n`);
}

function progressPrinter(quiet: boolean): { say(line: string): void; step(step: number, total: number, label: string): void } {
  const say = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  return {
    say,
    step: (step, total, label) => {
      if (quiet) return;
      // A terminal gets one updating line; a log (CI, pipes) gets a line per quarter of the run.
      if (process.stderr.isTTY) process.stderr.write(`\r${label} ${step}/${total}${step === total ? '\n' : ''}`);
      else if (step === total || step % Math.max(1, Math.round(total / 4)) === 0) say(`${label} ${step}/${total}`);
    },
  };
}

async function finetune(args: FinetuneArgs): Promise<number> {
  const file = path.resolve(args.file);
  const heldOutFile = args.heldOut === undefined ? undefined : path.resolve(args.heldOut);
  const progress = progressPrinter(args.quiet);
  const request = {
    file,
    text: await readPromptFile(file),
    ...(heldOutFile ? { heldOut: { file: heldOutFile, text: await readPromptFile(heldOutFile) } } : {}),
    overrides: { seed: args.seed, steps: args.steps, finetuneSteps: args.finetuneSteps, lr: args.lr, normWeight: args.normWeight },
    runsDir: path.resolve(args.out ?? path.join(path.dirname(file), SETTING_DEFAULTS.runsFolder)),
    builtinModelsDir: BUILTIN_MODELS,
    provider: args.provider ?? SETTING_DEFAULTS.executionProvider,
  };
  const signal = cancelOnInterrupt();
  let written = 0;
  return runCancellable('finetune', signal, () => written, sayError, async () => {
    const { result, folder, report } = await runFinetune(request, cliPipelines(), {
      signal,
      onStatus: progress.say,
      onTrainingStep: (s, total) => progress.step(s.step, total, `finetune step (loss ${s.loss.toFixed(4)})`),
    });
    const first = result.curve[0];
    const last = result.curve[result.curve.length - 1];
    if (first && last) progress.say(`loss ${first.loss.toFixed(4)} → ${last.loss.toFixed(4)} in ${result.curve.length} steps, ${Math.round(result.trainMs)} ms`);
    for (const group of ['trained', 'held-out', 'single-object'] as const) {
      const cases = result.comparisons.filter((c) => c.group === group && c.before.detection && c.after.detection);
      if (cases.length === 0) continue;
      const success = (pick: 'before' | 'after'): number => cases.filter((c) => c[pick].detection?.success).length;
      progress.say(`${group}: detector success ${success('before')}/${cases.length} → ${success('after')}/${cases.length}`);
    }
    if (result.stopped) progress.say(`stopped early: ${result.stopped}`);
    process.stdout.write(`${folder}\n${report}\n`);
    written++;
  });
}

async function run(args: RunArgs): Promise<number> {
  const file = path.resolve(args.file);
  const progress = progressPrinter(args.quiet);
  const say = progress.say;
  const request = {
    file,
    text: await readPromptFile(file),
    line: args.line === undefined ? undefined : args.line - 1,
    overrides: { seed: args.seed, steps: args.steps },
    selection: {
      ...(args.layers ? { layers: args.layers } : {}),
      ...(args.grids ? { grids: args.grids } : {}),
      ...(args.heads ? { heads: args.heads } : {}),
      ...(args.stepRange ? { steps: args.stepRange } : {}),
    },
    runsDir: path.resolve(args.out ?? path.join(path.dirname(file), SETTING_DEFAULTS.runsFolder)),
    builtinModelsDir: BUILTIN_MODELS,
    provider: args.provider ?? SETTING_DEFAULTS.executionProvider,
  };
  const signal = cancelOnInterrupt();
  let written = 0;
  return runCancellable('run', signal, () => written, sayError, async () => {
    const runs = await runPromptSeeds(
      request,
      cliPipelines(),
      { signal, onStatus: say, onProgress: (p) => progress.step(p.step, p.totalSteps, 'step') },
      {
        // Each run's folder and report as soon as it is written: a cancel keeps the earlier seeds' runs.
        onWritten: ({ result, written: folder }) => {
          say(`"${result.prompt}" on ${result.model.id} (${result.provider.name}), seed ${result.settings.seed}, in ${timeTaken(result.timings)}`);
          if (result.scores) {
            const s = result.scores;
            say(`overlap ${s.overlap.toFixed(3)} · weakest ${s.weakest} · ${s.activations.map((a) => `${a.word} ${a.value.toFixed(3)}`).join(' · ')}`);
          }
          if (result.failure) say(`${result.failure.failure.verdict}\n${result.failure.risk.verdict}`);
          process.stdout.write(`${folder.folder}\n${folder.report}\n`);
          written++;
        },
      },
    );
    if (runs.length > 1) {
      say(seedSummary(runs.map((r) => r.result)));
      const ranking = seedRanking(runs.map((r) => r.result));
      if (ranking.length > 0) say(`seeds by failure score, weakest object first:\n${ranking.join('\n')}`);
    }
  });
}

async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    if (args.command === 'version') {
      const pkg = JSON.parse(await fs.readFile(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return EXIT.ok;
    }
    if (args.command === 'check') return (await checkModel(args.model, BUILTIN_MODELS, (line) => process.stdout.write(`${line}\n`))) ? EXIT.ok : EXIT.badInput;
    return args.command === 'run' ? await run(args) : await finetune(args);
  } catch (error) {
    const { code, message } = failure(error);
    process.stderr.write(`${message}\n`);
    return code;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
