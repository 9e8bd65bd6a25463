// Worker thread of runPictures.ts: renders and compresses a run record's pictures off the main thread.
import { parentPort } from 'node:worker_threads';
import { renderPictures, type PictureSpec } from './runPictures';

parentPort?.on('message', ({ id, spec }: { id: number; spec: PictureSpec }) => {
  try {
    parentPort?.postMessage({ id, files: renderPictures(spec) });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
