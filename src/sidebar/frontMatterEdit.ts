// The text edit that sets one run setting in a .prompt file's front matter: replace the value where
// it is written, else add a line before the closing `---`, else add a front matter block at the top
// (vscode-free, unit-tested; the sidebar applies it as a WorkspaceEdit).
import { isGuidanceScale } from '../engine/promptFile/guidance';
import { parsePromptFile } from '../engine/promptFile';

export type EditableSetting = 'seed' | 'steps' | 'guidance';
export const EDITABLE_SETTINGS: readonly EditableSetting[] = ['seed', 'steps', 'guidance'];

export interface TextEditSpec {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

/** Checks a value typed in the sidebar: integers for seed and steps (steps ≥ 1), a number ≥ 0 for guidance. */
export function settingValueProblem(key: EditableSetting, value: number): string | undefined {
  if (!Number.isFinite(value)) return `${key} must be a number`;
  if ((key === 'seed' || key === 'steps') && !Number.isInteger(value)) return `${key} must be a whole number`;
  if (key === 'steps' && value < 1) return 'steps must be at least 1';
  if (key === 'seed' && value < 0) return 'seed must be 0 or more';
  if (key === 'guidance' && !isGuidanceScale(value)) return 'guidance must be 0 or more';
  return undefined;
}

export function frontMatterEdit(text: string, key: EditableSetting, value: number): TextEditSpec {
  const parsed = parsePromptFile(text, '');
  const written = parsed.settings[key];
  if (written) {
    const r = written.valueRange;
    return { line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn, newText: String(value) };
  }
  const lines = text.split(/\r?\n/);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (lines[0]?.trim() === '---') {
    const close = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
    if (close > 0) return { line: close, column: 0, endLine: close, endColumn: 0, newText: `${key}: ${value}${eol}` };
  }
  return { line: 0, column: 0, endLine: 0, endColumn: 0, newText: `---${eol}${key}: ${value}${eol}---${eol}` };
}
