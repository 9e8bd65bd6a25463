// Which folders a webview message may name (vscode-free, unit-tested).
import * as path from 'node:path';

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
