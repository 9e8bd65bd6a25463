// The lenses above each prompt line (vscode-free, unit-tested).
import { parsePromptFile } from '../engine/promptFile';

export interface LensSpec {
  line: number;
  title: string;
  command: 'promptLens.generate' | 'promptLens.finetune' | 'promptLens.compare';
  tooltip: string;
}

export function lensesFor(text: string): LensSpec[] {
  return parsePromptFile(text, '').prompts.flatMap((p) => [
    { line: p.line, title: '▶ Generate', command: 'promptLens.generate' as const, tooltip: 'Run this prompt and show its attention maps (F5)' },
    { line: p.line, title: 'Finetune', command: 'promptLens.finetune' as const, tooltip: 'Separate-and-Enhance finetune on this prompt' },
    { line: p.line, title: 'Compare', command: 'promptLens.compare' as const, tooltip: 'Compare runs of this prompt before and after finetuning' },
  ]);
}
