import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { settingCheckers, settingKeys, suggestKey } from './settings';
import type { PromptDiagnostic, PromptSettings, SettingKey, SourceRange } from './types';

export interface FrontMatter {
  settings: PromptSettings;
  diagnostics: PromptDiagnostic[];
}

/**
 * Parses and validates the YAML between the `---` lines. `source` is that text exactly as in the
 * file and `firstLine` its first line, so YAML offsets map back to file positions.
 */
export function parseFrontMatter(source: string, firstLine: number): FrontMatter {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const settings: PromptSettings = {};
  const diagnostics: PromptDiagnostic[] = [];

  const rangeOf = (start: number, end: number): SourceRange => {
    const a = lineCounter.linePos(start);
    const b = lineCounter.linePos(Math.max(end, start));
    return { line: firstLine + a.line - 1, column: a.col - 1, endLine: firstLine + b.line - 1, endColumn: b.col - 1 };
  };
  const nodeRange = (node: Node): SourceRange => (node.range ? rangeOf(node.range[0], node.range[1]) : rangeOf(0, 0));
  const report = (severity: PromptDiagnostic['severity'], range: SourceRange, message: string): void => {
    diagnostics.push({ severity, message, ...range });
  };

  for (const e of doc.errors) report('error', rangeOf(e.pos[0], e.pos[1]), `front matter: ${e.message}`);
  for (const w of doc.warnings) report('warning', rangeOf(w.pos[0], w.pos[1]), `front matter: ${w.message}`);
  // After a syntax error the document is a guess; checking its values would only add noise.
  if (doc.errors.length > 0 || doc.contents === null) return { settings, diagnostics };
  if (!isMap(doc.contents)) {
    report('error', nodeRange(doc.contents), 'front matter must be "key: value" lines, e.g. "seed: 42"');
    return { settings, diagnostics };
  }

  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const valueNode = pair.value as Node | null;
    if (!keyNode || !isScalar(keyNode) || keyNode.value === null) {
      const at = keyNode ? nodeRange(keyNode) : valueNode ? nodeRange(valueNode) : rangeOf(0, 0);
      report('error', at, 'each setting needs a plain name before ":", e.g. "seed: 42"');
      continue;
    }
    const key = String(keyNode.value);
    const keyRange = nodeRange(keyNode);
    if (!(key in settingCheckers)) {
      const suggestion = suggestKey(key);
      const hint = suggestion ? `did you mean "${suggestion}"?` : `known settings: ${settingKeys.join(', ')}`;
      report('error', keyRange, `unknown setting "${key}"; ${hint}`);
      continue;
    }
    const k = key as SettingKey;
    const checked = settingCheckers[k](valueNode);
    // An empty value ("seed:") is a zero-width null scalar; underline the key instead.
    const empty = !valueNode || !valueNode.range || valueNode.range[0] === valueNode.range[1];
    const valueRange = empty ? keyRange : nodeRange(valueNode);
    if ('error' in checked) {
      report('error', checked.node ? nodeRange(checked.node) : valueRange, `"${key}" must be ${checked.error}`);
    } else {
      (settings as Record<string, unknown>)[k] = { value: checked.value, keyRange, valueRange };
    }
  }
  return { settings, diagnostics };
}
