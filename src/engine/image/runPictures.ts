// The pictures of a run record (image, its enlargement, each word's heat map and overlay, the overlap map) as PNG
// bytes. Rendering and compressing them is most of a record's cost, so it runs on a worker thread when one can be
// started (pictureWorker.ts): the main thread, which onnxruntime-node's UNet calls also run on, samples meanwhile.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { encodePng, type RasterImage } from './png';
import { heatmapRgb, mapMax, overlayHeat, resizeMapBilinear, resizeNearest } from './raster';

/** Pictures are stored at least this large so 32 px model outputs stay readable. */
const MIN_PICTURE_SIDE = 256;

export interface PictureSpec {
  image: RasterImage;
  /** The display maps' grid. */
  mapHeight: number;
  mapWidth: number;
  /** `[file name, map]`: a heat map (`heat`) or a heat map over the enlarged image (`overlay`). */
  maps: { file: string; kind: 'heat' | 'overlay'; map: Float32Array }[];
  imageFile: string;
  largeFile: string;
}

/** `[file name, PNG bytes]` of every picture of `spec`, rendered here. */
export function renderPictures(spec: PictureSpec): [string, Uint8Array][] {
  const { image, mapHeight, mapWidth } = spec;
  const scale = Math.max(1, Math.ceil(MIN_PICTURE_SIDE / Math.max(image.width, image.height)));
  const large = resizeNearest(image, image.width * scale, image.height * scale);
  const out: [string, Uint8Array][] = [[spec.imageFile, encodePng(image)], [spec.largeFile, encodePng(large)]];
  for (const { file, kind, map } of spec.maps) {
    if (kind === 'heat') {
      out.push([file, encodePng(resizeNearest(heatmapRgb(map, mapHeight, mapWidth, mapMax(map)), large.width, large.height))]);
    } else {
      const resized = resizeMapBilinear(map, mapHeight, mapWidth, large.height, large.width);
      out.push([file, encodePng(overlayHeat(large, resized, mapMax(resized)))]);
    }
  }
  return out;
}

/** The worker's script: beside this module when compiled by tsc, beside the bundle in dist/. */
const WORKER_FILE = path.join(__dirname, 'pictureWorker.js');

let worker: Worker | undefined;
let workerFailed = false;
let nextJob = 0;
const pending = new Map<number, { resolve(files: [string, Uint8Array][]): void; reject(error: Error): void }>();

function startWorker(): Worker | undefined {
  if (worker || workerFailed) return worker;
  if (!existsSync(WORKER_FILE)) {
    workerFailed = true;
    return undefined;
  }
  const started = new Worker(WORKER_FILE);
  started.unref(); // an idle worker never keeps the CLI or a test alive
  started.on('message', ({ id, files, error }: { id: number; files?: [string, Uint8Array][]; error?: string }) => {
    const job = pending.get(id);
    pending.delete(id);
    if (error !== undefined) job?.reject(new Error(error));
    else job?.resolve(files ?? []);
  });
  started.on('error', (error) => failAll(error));
  started.on('exit', () => failAll(new Error('the picture worker exited')));
  worker = started;
  return worker;
}

/** A dead worker fails its jobs and is not restarted: later pictures render on the main thread. */
function failAll(error: Error): void {
  worker = undefined;
  workerFailed = true;
  for (const job of pending.values()) job.reject(error);
  pending.clear();
}

/**
 * `renderPictures` on the worker thread; on this thread where no worker can run, or when the worker fails (a job
 * it failed is rendered here again, which also reports a genuine rendering error from here).
 */
export async function renderPicturesOffThread(spec: PictureSpec): Promise<[string, Uint8Array][]> {
  const w = startWorker();
  if (!w) return renderPictures(spec);
  const id = nextJob++;
  const job = new Promise<[string, Uint8Array][]>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref(); // keeps the process alive while a job is out
    w.postMessage({ id, spec });
  });
  try {
    return await job;
  } catch {
    return renderPictures(spec);
  } finally {
    if (pending.size === 0) worker?.unref();
  }
}
