import { parseFrontMatter } from './frontMatter';
import { parseMarks } from './marks';
import type { ParsedPromptFile, PromptDiagnostic, PromptLine, PromptSettings } from './types';

const FENCE = /^---[ \t]*$/;

/**
 * Parses a .prompt file (format v1): optional YAML front matter between `---` lines at the very
 * top, then one prompt per non-blank line, `#` lines being comments. Never throws: every problem
 * becomes a diagnostic.
 */
export function parsePromptFile(text: string, _fileName: string): ParsedPromptFile {
  // The name is unused: positions are file-relative and formatDiagnostic adds the name.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = source.split(/\r\n|\r|\n/);
  let settings: PromptSettings = {};
  const diagnostics: PromptDiagnostic[] = [];
  let bodyStart = 0;

  if (FENCE.test(lines[0])) {
    const close = lines.findIndex((l, i) => i > 0 && FENCE.test(l));
    if (close < 0) {
      diagnostics.push({
        severity: 'error',
        message: 'the front matter is not closed: add a "---" line after the settings',
        line: 0,
        column: 0,
        endLine: 0,
        endColumn: 3,
      });
      return { settings, prompts: [], diagnostics };
    }
    const offsets = lineOffsets(source);
    const front = parseFrontMatter(source.slice(offsets[1], offsets[close]), 1);
    settings = front.settings;
    diagnostics.push(...front.diagnostics);
    bodyStart = close + 1;
  }

  const prompts: PromptLine[] = [];
  for (let line = bodyStart; line < lines.length; line++) {
    const raw = lines[line];
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const marked = parseMarks(raw, line);
    diagnostics.push(...marked.diagnostics);
    prompts.push({ line, text: marked.text, raw, objects: marked.objects });
  }
  if (prompts.length === 0) {
    const last = lines.length - 1;
    diagnostics.push({
      severity: 'warning',
      message: 'no prompts: write one prompt per line, marking objects like "a red [circle] and a blue [square]"',
      line: last,
      column: 0,
      endLine: last,
      endColumn: lines[last].length,
    });
  }
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { settings, prompts, diagnostics };
}

/** Offset of the start of every line (line breaks \r\n, \r or \n). */
function lineOffsets(text: string): number[] {
  const offsets = [0];
  for (const m of text.matchAll(/\r\n|\r|\n/g)) offsets.push(m.index + m[0].length);
  return offsets;
}

/** `file:line:col: severity: message`, 1-based like compilers print. */
export function formatDiagnostic(file: string, d: PromptDiagnostic): string {
  return `${file}:${d.line + 1}:${d.column + 1}: ${d.severity}: ${d.message}`;
}
