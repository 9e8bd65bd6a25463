// `prompt-lens` CLI: the same engine as the extension, for headless runs, CI and benchmarks.
// Progress goes to stderr; stdout carries only the run folder and report paths, so scripts can read them.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CancelledError } from '../engine/pipeline/pipeline';
import { PipelineCache } from '../engine/pipeline/pipelineCache';
import { ModelError } from '../engine/model/modelFolder';
import { InputError } from '../engine/run/errors';
import { runPrompt } from '../engine/run/runPrompt';
import { parseArgs, UsageError, USAGE, type RunArgs } from './args';

const EXIT = { ok: 0, failed: 1, badInput: 2, cancelled: 130 } as const;

/** dist/cli.js sits one folder below the package root, which holds the embedded models. */
const BUILTIN_MODELS = path.resolve(__dirname, '..', 'models');

async function run(args: RunArgs): Promise<number> {
  const file = path.resolve(args.file);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new InputError(`Cannot read ${file}`);
  }
  const abort = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nCancelling…\n');
    abort.abort();
  });
  const say = (line: string): void => {
    if (!args.quiet) process.stderr.write(`${line}\n`);
  };
  const { result, written } = await runPrompt(
    {
      file,
      text,
      line: args.line === undefined ? undefined : args.line - 1,
      overrides: { seed: args.seed, steps: args.steps },
      runsDir: path.resolve(args.out ?? path.join(path.dirname(file), 'runs')),
      builtinModelsDir: BUILTIN_MODELS,
      provider: args.provider ?? 'cpu',
    },
    new PipelineCache(),
    {
      signal: abort.signal,
      onStatus: say,
      onProgress: (p) => {
        if (args.quiet) return;
        // A terminal gets one updating line; a log (CI, pipes) gets a line per quarter of the run.
        if (process.stderr.isTTY) process.stderr.write(`\rstep ${p.step}/${p.totalSteps}${p.step === p.totalSteps ? '\n' : ''}`);
        else if (p.step === p.totalSteps || p.step % Math.max(1, Math.round(p.totalSteps / 4)) === 0) say(`step ${p.step}/${p.totalSteps}`);
      },
    },
  );
  say(`"${result.prompt}" on ${result.model.id} (${result.provider.name}) in ${Math.round(result.timings.totalMs)} ms`);
  if (result.scores) {
    const s = result.scores;
    say(`overlap ${s.overlap.toFixed(3)} · weakest ${s.weakest} · ${s.activations.map((a) => `${a.word} ${a.value.toFixed(3)}`).join(' · ')}`);
  }
  process.stdout.write(`${written.folder}\n${written.report}\n`);
  return EXIT.ok;
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
    return await run(args);
  } catch (error) {
    if (error instanceof CancelledError) {
      process.stderr.write('Cancelled; no run folder was written.\n');
      return EXIT.cancelled;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`prompt-lens: ${error.message}\n\n${USAGE}\n`);
      return EXIT.badInput;
    }
    if (error instanceof InputError || error instanceof ModelError) {
      process.stderr.write(`prompt-lens: ${error.message}\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`prompt-lens: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
