// A phase's checks as named steps: counted, timed, a screenshot on failure, the rest skipped after one fails.
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { secondsSince } from './util';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export class Steps {
  readonly counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  /** Set when the phase timed out: the step in flight fails with this reason. */
  abortReason: string | undefined;
  private failed = false;
  constructor(private readonly page: Page, private readonly outDir: string) {}

  async shot(name: string): Promise<string> {
    const file = path.join(this.outDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    console.log(`    screenshot: ${path.relative(process.cwd(), file) || file}`);
    return file;
  }

  async step(title: string, fn: () => Promise<void>): Promise<void> {
    if (this.failed) {
      console.log(`  - ${title} (skipped: an earlier step failed)`);
      this.counts.skipped++;
      return;
    }
    const start = Date.now();
    try {
      await fn();
      console.log(`  ✔ ${title} (${secondsSince(start)})`);
      this.counts.passed++;
    } catch (error) {
      this.failed = true;
      this.counts.failed++;
      const reason = this.abortReason ?? (error instanceof Error ? error.message : String(error));
      console.log(`  ✘ ${title} (${secondsSince(start)})\n      ${reason.split('\n').join('\n      ')}`);
      if (this.abortReason === undefined) await this.shot(`failure-${this.counts.passed + this.counts.failed}`).catch(() => undefined);
    }
  }
}
