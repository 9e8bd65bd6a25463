import type { MarkedObject, PromptDiagnostic } from './types';

export interface MarkedLine {
  text: string;
  objects: MarkedObject[];
  diagnostics: PromptDiagnostic[];
}

/**
 * Strips [marks] from one prompt line. Marks cannot nest and must close on their line; on an
 * error the offending bracket is dropped and the rest of the line is still read, so one typo
 * yields one diagnostic and the prompt stays usable for highlighting.
 */
export function parseMarks(raw: string, line: number): MarkedLine {
  const from = raw.length - raw.trimStart().length;
  const to = raw.trimEnd().length;
  let text = '';
  const columnOf: number[] = []; // file column of each character of `text`
  const objects: MarkedObject[] = [];
  const diagnostics: PromptDiagnostic[] = [];
  const error = (column: number, endColumn: number, message: string): void => {
    diagnostics.push({ severity: 'error', message, line, column, endLine: line, endColumn });
  };
  let open = -1; // column of the open "[", -1 outside a mark
  let openAt = 0; // length of `text` when the mark opened

  for (let col = from; col < to; col++) {
    const ch = raw[col];
    if (ch === '[') {
      if (open >= 0) {
        error(col, col + 1, `marks cannot nest: "[" inside the mark opened at column ${open + 1}`);
      } else {
        open = col;
        openAt = text.length;
      }
    } else if (ch === ']') {
      if (open < 0) {
        error(col, col + 1, 'unbalanced "]": no "[" before it on this line');
        continue;
      }
      const inner = text.slice(openAt);
      const word = inner.trim();
      if (word === '') {
        error(open, col + 1, 'empty mark "[]": put the object word inside, e.g. [circle]');
      } else {
        const start = openAt + inner.length - inner.trimStart().length;
        const end = start + word.length;
        objects.push({ word, start, end, line, column: columnOf[start], endColumn: columnOf[end - 1] + 1 });
      }
      open = -1;
    } else {
      text += ch;
      columnOf.push(col);
    }
  }
  if (open >= 0) error(open, open + 1, 'unbalanced "[": the mark is not closed on this line');

  // Dropping brackets can leave outer whitespace ("[ cat ]"); trim it and shift the offsets.
  const lead = text.length - text.trimStart().length;
  return {
    text: text.trim(),
    objects: objects.map((o) => ({ ...o, start: o.start - lead, end: o.end - lead })),
    diagnostics,
  };
}

/**
 * One label per marked object, in mark order: its word (lower case), numbered "#1", "#2"… where several marks
 * share a word ("a red [circle] and a blue [circle]"), so that each object keeps its own map and scores.
 */
export function objectLabels(objects: readonly { word: string }[]): string[] {
  const words = objects.map((o) => o.word.toLowerCase());
  const seen = new Map<string, number>();
  return words.map((word) => {
    if (words.indexOf(word) === words.lastIndexOf(word)) return word;
    const n = (seen.get(word) ?? 0) + 1;
    seen.set(word, n);
    return `${word} #${n}`;
  });
}
