// Hover text for a word of a prompt line, as markdown source (vscode-free, unit-tested): the word's
// attention overlay and scores from the newest run of that exact prompt, or else its tokens.
import * as path from 'node:path';
import type { RunSummary, WordInRun } from '../engine/history';
import { COMMANDS } from '../ids';

/** Markdown image/link text must not break out of `[...]`/`(...)`. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

export function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${escapeMarkdown(title)}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

export interface RunHoverInput {
  run: RunSummary;
  word: WordInRun;
  /** `data:image/png;base64,…` of the overlay thumbnail, when it could be read. */
  thumbnail?: string;
  /** Thumbnail side in CSS pixels. */
  size?: number;
  runsDir: string;
}

export function runHoverMarkdown(input: RunHoverInput): string {
  const { run, word, thumbnail } = input;
  const size = input.size ?? 128;
  const settings = [
    run.settings.seed !== undefined ? `seed ${run.settings.seed}` : '',
    run.settings.steps !== undefined ? `${run.settings.steps} steps` : '',
    run.model.id,
  ].filter((s) => s !== '');
  const parts: string[] = [];
  parts.push(`**${escapeMarkdown(word.word)}** in run \`${run.id}\`${settings.length ? ` (${escapeMarkdown(settings.join(', '))})` : ''}`);
  if (thumbnail) parts.push(`![${escapeMarkdown(word.word)}](${thumbnail}|width=${size},height=${size})`);
  else parts.push('_no overlay picture in this run_');
  if (word.isObject) {
    const scores: string[] = [];
    if (word.activation !== undefined) scores.push(`activation **${fmt(word.activation)}**${word.weakest ? ' (weakest object)' : ''}`);
    for (const p of word.pairs) scores.push(`IoU with ${escapeMarkdown(p.other)} **${fmt(p.iou)}**`);
    if (scores.length === 0) scores.push('no scores recorded');
    parts.push(scores.join(' · '));
  } else {
    parts.push('_not a marked object: mark it like [word] to score it_');
  }
  const where = path.relative(path.dirname(input.runsDir), run.folder) || run.folder;
  parts.push(`${commandLink('Open report', COMMANDS.openRun, [run.folder])} · ${escapeMarkdown(where)}`);
  return parts.join('\n\n');
}

export interface TokenHoverInput {
  word: string;
  modelId: string;
  /** The word's tokens in the prompt; empty when they fall beyond the limit. */
  tokens: { text: string; id: number }[];
  maxLength: number;
  /** Shown under the tokens (e.g. that there is no run yet). */
  note?: string;
}

export function tokenHoverMarkdown(input: TokenHoverInput): string {
  const { word, tokens } = input;
  const head = `**${escapeMarkdown(word)}** · ${escapeMarkdown(input.modelId)}`;
  const body =
    tokens.length === 0
      ? `beyond the model's ${input.maxLength}-token limit: not seen by the model`
      : `${tokens.length === 1 ? '1 token' : `${tokens.length} tokens`}: ` + tokens.map((t) => `\`${t.text.replace(/`/g, "'")}\` ${t.id}`).join(' · ');
  return [head, body, ...(input.note ? [input.note] : [])].join('\n\n');
}
