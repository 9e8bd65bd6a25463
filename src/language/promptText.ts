// Positions inside a .prompt file that the editor features share (vscode-free, unit-tested):
// the front-matter block, and the mapping between a prompt line's columns and its stripped text.
import type { PromptLine } from '../engine/promptFile';

const FENCE = /^---[ \t]*$/;

export function splitLines(text: string): string[] {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return source.split(/\r\n|\r|\n/);
}

/**
 * Lines of the front matter's body (between the fences, exclusive): `{ start, end }` with `end`
 * exclusive; an unclosed block runs to the end of the file. Undefined when there is none.
 */
export function frontMatterLines(lines: readonly string[]): { start: number; end: number; closed: boolean } | undefined {
  if (lines.length === 0 || !FENCE.test(lines[0])) return undefined;
  const close = lines.findIndex((l, i) => i > 0 && FENCE.test(l));
  return close < 0 ? { start: 1, end: lines.length, closed: false } : { start: 1, end: close, closed: true };
}

/**
 * For each UTF-16 offset of `PromptLine.text`, its column in the raw line: the parser drops every
 * "[" and "]" and trims the result, and this mirrors that.
 */
export function promptColumns(raw: string): number[] {
  const from = raw.length - raw.trimStart().length;
  const to = raw.trimEnd().length;
  let text = '';
  const columns: number[] = [];
  for (let col = from; col < to; col++) {
    const ch = raw[col];
    if (ch === '[' || ch === ']') continue;
    text += ch;
    columns.push(col);
  }
  const lead = text.length - text.trimStart().length;
  const trail = text.length - text.trimEnd().length;
  return columns.slice(lead, columns.length - trail);
}

/** The file column range of the text span [start, end) of a prompt (end exclusive). */
export function columnRange(columns: readonly number[], start: number, end: number): { column: number; endColumn: number } {
  if (columns.length === 0) return { column: 0, endColumn: 0 };
  const s = Math.min(Math.max(start, 0), columns.length - 1);
  const e = Math.min(Math.max(end, s + 1), columns.length);
  return { column: columns[s], endColumn: columns[e - 1] + 1 };
}

/** The text offset at a file column, or -1 when the column is on a bracket or outside the prompt. */
export function offsetAtColumn(columns: readonly number[], column: number): number {
  return columns.indexOf(column);
}

/** A run of letters or digits (what a hover or completion calls a word). */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** The word whose characters include offset `at` of `text`, with its span (end exclusive). */
export function wordAt(text: string, at: number): { word: string; start: number; end: number } | undefined {
  for (const m of text.matchAll(WORD)) {
    const start = m.index;
    const end = start + m[0].length;
    if (at >= start && at < end) return { word: m[0], start, end };
  }
  return undefined;
}

/** The prompt on a file line, if that line is one. */
export function promptOnLine(prompts: readonly PromptLine[], line: number): PromptLine | undefined {
  return prompts.find((p) => p.line === line);
}
