// The lenses above each prompt line (vscode-free, unit-tested).
import { parsePromptFile } from '../engine/promptFile';
import { COMMANDS } from '../ids';

export interface LensSpec {
  line: number;
  title: string;
  command: typeof COMMANDS.generate | typeof COMMANDS.finetune | typeof COMMANDS.compare;
  tooltip: string;
}

export function lensesFor(text: string): LensSpec[] {
  return parsePromptFile(text, '').prompts.flatMap((p) => [
    { line: p.line, title: '▶ Generate', command: COMMANDS.generate, tooltip: 'Run this prompt and show its attention maps (F5)' },
    { line: p.line, title: 'Finetune', command: COMMANDS.finetune, tooltip: 'Separate-and-Enhance finetune on this prompt' },
    { line: p.line, title: 'Compare', command: COMMANDS.compare, tooltip: 'Compare runs of this prompt before and after finetuning' },
  ]);
}
