// Command-line parsing for `prompt-lens`; errors here are usage errors (exit code 2).
import { FINETUNE_DEFAULTS } from '../engine/finetune/finetuneDefaults';
import { isProviderChoice, PROVIDER_CHOICES, type ProviderChoice } from '../engine/session/providers';

export interface RunArgs {
  command: 'run';
  file: string;
  /** 1-based line of the prompt in the file; default: the first prompt. */
  line?: number;
  out?: string;
  seed?: number;
  steps?: number;
  provider?: ProviderChoice;
  /** run: what the display maps aggregate (engine SelectionOptions). */
  layers?: string[];
  grids?: string[];
  heads?: number[];
  /** 0-based inclusive step range. */
  stepRange?: { from: number; to: number };
  quiet: boolean;
}

export interface FinetuneArgs extends Omit<RunArgs, 'command' | 'line'> {
  command: 'finetune';
  finetuneSteps?: number;
  lr?: number;
  normWeight?: number;
  heldOut?: string;
}

export interface CheckArgs {
  command: 'check';
  /** A model folder, or the name of an embedded model. */
  model: string;
}

export type CliArgs = RunArgs | FinetuneArgs | CheckArgs | { command: 'help' } | { command: 'version' };

export class UsageError extends Error {}

export const USAGE = `Usage: prompt-lens run FILE.prompt [options]
       prompt-lens finetune FILE.prompt [options]
       prompt-lens check MODEL

run       generates an image for one prompt of a .prompt file and writes a run record
          (image, per-word attention maps, scores, run.json, report.html) to a new folder;
          once per seed when the file lists several (seed: [1, 2, 3]), then a summary.
finetune  Separate-and-Enhance finetune of the cross-attention key projections on the
          file's prompts with two or more [marked] objects; writes the keys
          (keys.safetensors), the loss curve and before/after runs of every prompt.
check     whether Prompt Lens can use a model folder (or an embedded model by name): its
          layout, recommended settings, tokenizer, scheduler, text encoder and UNet
          cross-attention, each with what was found or what to do instead.

Options:
  --line N              run: 1-based line of the prompt (default: the first prompt)
  --out DIR             folder that receives the new folder (default: runs/ beside FILE)
  --seed S              one seed (overrides the file's front matter)
  --steps N             DDIM sampling steps (overrides the file's front matter)
  --layers L1,L2        run: maps from these cross-attention layers (names or prefixes, e.g. up_blocks.1)
  --grids 16,8          run: maps from layers with these query grids
  --heads 0,3           run: maps from these heads (default all)
  --timesteps A-B       run: maps from sampling steps A to B (1-based, e.g. 1-10, or one step: 5)
  --finetune-steps N    finetune: training steps (default: the model's recommendation, else ${FINETUNE_DEFAULTS.steps})
  --lr X                finetune: constant learning rate (default: the model's recommendation, else ${FINETUNE_DEFAULTS.lr.toExponential()})
  --norm-weight W       finetune: weight of L_norm, which keeps single objects as they were (default: the model's, else ${FINETUNE_DEFAULTS.normWeight})
  --heldout FILE        finetune: a .prompt file evaluated before/after, never trained on
  --provider P          execution provider: auto, cpu, cuda (Linux), dml (Windows), coreml (macOS), webgpu (default: cpu)
  --quiet               no progress on stderr
  -h, --help            this text
  --version             print the version

Exit codes: 0 success, 1 run failed, 2 bad input (usage, .prompt file, model), 130 cancelled.`;

export function parseArgs(argv: string[]): CliArgs {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return { command: 'help' };
  if (argv[0] === '--version') return { command: 'version' };
  const [command, ...rest] = argv;
  if (command === 'check') {
    if (rest.length !== 1 || rest[0].startsWith('--')) throw new UsageError('check takes one model folder (or embedded model name) and no options');
    return { command, model: rest[0] };
  }
  if (command !== 'run' && command !== 'finetune') throw new UsageError(`Unknown command "${command}"`);
  const args: Omit<RunArgs, 'command'> & Omit<FinetuneArgs, 'command'> = { file: '', quiet: false };
  const only = (flag: string, wanted: 'run' | 'finetune'): void => {
    if (command !== wanted) throw new UsageError(`${flag} is for \`prompt-lens ${wanted}\``);
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--line':
        only(arg, 'run');
        args.line = positiveInteger(arg, value());
        break;
      case '--finetune-steps':
        only(arg, 'finetune');
        args.finetuneSteps = positiveInteger(arg, value());
        break;
      case '--lr': {
        only(arg, 'finetune');
        const text = value();
        const lr = Number(text);
        if (!(lr > 0 && lr < 1)) throw new UsageError(`--lr must be a number between 0 and 1; got "${text}"`);
        args.lr = lr;
        break;
      }
      case '--norm-weight': {
        only(arg, 'finetune');
        const text = value();
        const weight = Number(text);
        if (!(weight >= 0 && Number.isFinite(weight))) throw new UsageError(`--norm-weight must be a number >= 0; got "${text}"`);
        args.normWeight = weight;
        break;
      }
      case '--layers':
        only(arg, 'run');
        args.layers = list(value());
        break;
      case '--grids':
        only(arg, 'run');
        args.grids = list(value());
        break;
      case '--heads':
        only(arg, 'run');
        args.heads = list(value()).map((h) => integer(arg, h, 0));
        break;
      case '--timesteps': {
        only(arg, 'run');
        const text = value();
        const m = /^(\d+)(?:-(\d+))?$/.exec(text);
        if (!m) throw new UsageError(`--timesteps takes a step or a range such as 1-10; got "${text}"`);
        const from = positiveInteger(arg, m[1]) - 1;
        const to = m[2] === undefined ? from : positiveInteger(arg, m[2]) - 1;
        if (to < from) throw new UsageError(`--timesteps ${text}: the range ends before it starts`);
        args.stepRange = { from, to };
        break;
      }
      case '--heldout':
        only(arg, 'finetune');
        args.heldOut = value();
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
        if (!isProviderChoice(v)) {
          throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}; got "${v}"`);
        }
        args.provider = v;
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
  if (!args.file) throw new UsageError(`Missing the .prompt file to ${command}`);
  return command === 'run' ? { command, ...args } : { command, ...args };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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
