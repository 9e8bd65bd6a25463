// Analysis thread of analysisThread.ts: runs each sampled item's AttentionAnalysis on its own event loop, so the
// main thread only packs a step's captures before the next UNet call.
import { parentPort } from 'node:worker_threads';
import { threadError, unpackCaptures, type AnalysisJob, type AnalysisReply } from './analysisThread';
import { AttentionAnalysis } from './attentionAnalysis';

interface Batch {
  analyses: AttentionAnalysis[];
  /** Set once an analysis threw: reported then, and the batch's later steps are skipped. */
  failed: boolean;
}

const batches = new Map<number, Batch>();

function reply(message: AnalysisReply): void {
  parentPort?.postMessage(message);
}

parentPort?.on('message', (job: AnalysisJob) => {
  const { batch } = job;
  if (job.kind === 'start') {
    try {
      batches.set(batch, { analyses: job.inputs.map((input) => new AttentionAnalysis(input)), failed: false });
    } catch (error) {
      batches.set(batch, { analyses: [], failed: true });
      reply({ batch, error: threadError(error) });
    }
    return;
  }
  const state = batches.get(batch);
  if (job.kind === 'discard' || !state) {
    batches.delete(batch);
    return;
  }
  if (job.kind === 'step') {
    if (state.failed) return;
    try {
      state.analyses[job.item].onAttention(unpackCaptures(job.shapes, job.probs));
    } catch (error) {
      state.failed = true;
      reply({ batch, error: threadError(error) });
    }
    return;
  }
  // finish
  batches.delete(batch);
  if (state.failed) return;
  try {
    reply({ batch, outputs: state.analyses.map((a) => a.finish()) });
  } catch (error) {
    reply({ batch, error: threadError(error) });
  }
});
