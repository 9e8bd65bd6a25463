// Command-line parsing for `prompt-lens`; errors here are usage errors (exit code 2).

export interface RunArgs {
  command: 'run';
  file: string;
  /** 1-based line of the prompt in the file; default: the first prompt. */
  line?: number;
  out?: string;
  seed?: number;
  steps?: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  quiet: boolean;
}

export type CliArgs = RunArgs | { command: 'help' } | { command: 'version' };

export class UsageError extends Error {}

export const USAGE = `Usage: prompt-lens run FILE.prompt [options]

Generates an image for one prompt of a .prompt file and writes a run record
(image, per-word attention maps, scores, run.json, report.html) to a new folder.

Options:
  --line N        1-based line of the prompt to run (default: the first prompt)
  --out DIR       folder that receives the run folder (default: runs/ beside FILE)
  --seed S        seed (overrides the file's front matter)
  --steps N       DDIM steps (overrides the file's front matter)
  --provider P    execution provider: auto, cpu, cuda, webgpu (default: cpu)
  --quiet         no progress on stderr
  -h, --help      this text
  --version       print the version

Exit codes: 0 success, 1 run failed, 2 bad input (usage, .prompt file, model), 130 cancelled.`;

const PROVIDERS = ['auto', 'cpu', 'cuda', 'webgpu'] as const;

export function parseArgs(argv: string[]): CliArgs {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return { command: 'help' };
  if (argv[0] === '--version') return { command: 'version' };
  const [command, ...rest] = argv;
  if (command !== 'run') throw new UsageError(`Unknown command "${command}"`);
  const args: RunArgs = { command: 'run', file: '', quiet: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--line':
        args.line = positiveInteger(arg, value());
        break;
      case '--out':
        args.out = value();
        break;
      case '--seed':
        args.seed = integer(arg, value(), 0);
        break;
      case '--steps':
        args.steps = positiveInteger(arg, value());
        break;
      case '--provider': {
        const v = value();
        if (!(PROVIDERS as readonly string[]).includes(v)) {
          throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}; got "${v}"`);
        }
        args.provider = v as RunArgs['provider'];
        break;
      }
      case '--quiet':
        args.quiet = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`Unknown option ${arg}`);
        if (args.file) throw new UsageError(`Only one file can be run at a time (got "${args.file}" and "${arg}")`);
        args.file = arg;
    }
  }
  if (!args.file) throw new UsageError('Missing the .prompt file to run');
  return args;
}

function integer(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}; got "${text}"`);
  }
  return n;
}

function positiveInteger(flag: string, text: string): number {
  return integer(flag, text, 1);
}
