// A run saved as every run is: its folder (record/) with its HTML report (report/).
import type { RunResult } from '../record/runResult';
import { writeRunFolder, type WrittenRun } from '../record/writeRun';
import { writeHtmlReport } from '../report/htmlReport';

export function writeRunRecord(result: RunResult, runsDir: string, now = new Date()): Promise<WrittenRun> {
  return writeRunFolder(result, runsDir, writeHtmlReport, now);
}
