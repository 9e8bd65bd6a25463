// The extension's test API (what activate() returns) and the waiting helper the suites share.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PromptLensTestApi } from '../../src/testApi';

export type { PromptLensTestApi };

/** What whenResultsRendered() resolves with: what the webview drew, and the run's folder. */
export type CompletedRender = Awaited<ReturnType<PromptLensTestApi['whenResultsRendered']>>;

export const EXTENSION_ID = 'prompt-lens.prompt-lens';

/** Activates Prompt Lens (if needed) and returns its test API. */
export async function promptLensApi(): Promise<PromptLensTestApi> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} not found`);
  return (await ext.activate()) as PromptLensTestApi;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
