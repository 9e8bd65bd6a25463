// The runs of the newest Generate with several seeds: the results view's seed strip switches between them.
import { encodePng } from '../engine/image/png';
import type { WrittenRun } from '../engine/record/writeRun';
import type { RunResult } from '../engine/record/runResult';
import type { RunView, SeedRun } from '../shared/protocol';

/** A seed's entry in the results view's seed strip: its folder, detector verdict and image. */
function seedRunOf(run: { result: RunResult; written: WrittenRun }): SeedRun {
  const png = encodePng(run.result.image);
  return {
    seed: run.result.settings.seed,
    runFolder: run.written.folder,
    ...(run.result.detection ? { detection: run.result.detection } : {}),
    imagePng: png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer,
  };
}

export class SeedRuns {
  private runs: SeedRun[] = [];

  /** A new Generate's runs: a strip when it had several seeds, none otherwise. */
  replace(runs: { result: RunResult; written: WrittenRun }[]): void {
    this.runs = runs.length > 1 ? runs.map(seedRunOf) : [];
  }

  has(folder: string): boolean {
    return this.runs.some((r) => r.runFolder === folder);
  }

  /** `run` with the strip, when it is one of its runs. */
  attach(run: RunView): RunView {
    return this.has(run.runFolder) ? { ...run, seedRuns: this.runs } : run;
  }
}
