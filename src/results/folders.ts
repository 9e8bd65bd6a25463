// Which folders a webview message may name (vscode-free, unit-tested).
import * as path from 'node:path';
import type { ViewRef } from '../shared/protocol';

/** Is `folder` the folder shown, or inside it? Webview messages may only name those. */
export function isInside(folder: string, shown: string): boolean {
  const rel = path.relative(path.resolve(shown), path.resolve(folder));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A file name for an exported view: the webview's suggestion reduced to safe characters, `.png`. */
export function exportFileName(suggested: string): string {
  const stem = path.basename(suggested).replace(/\.png$/i, '').replace(/[^\w.-]+/g, '-').replace(/^[.-]+/, '');
  return `${stem || 'prompt-lens'}.png`;
}

/** A view reference from the webview (its saved state or a `ready` message) with its fields' types checked. */
export function checkedViewRef(value: unknown): ViewRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = value as Record<string, unknown>;
  if (typeof ref.folder !== 'string' || ref.folder === '' || !path.isAbsolute(ref.folder)) return undefined;
  if (ref.kind === 'run') return { kind: 'run', folder: ref.folder };
  if (ref.kind !== 'compare') return undefined;
  const initial = typeof ref.initial === 'number' && Number.isInteger(ref.initial) && ref.initial >= 0 ? ref.initial : undefined;
  return { kind: 'compare', folder: ref.folder, ...(initial !== undefined ? { initial } : {}) };
}
