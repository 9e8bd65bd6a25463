// What the host says to the results view: a run started, its progress, its result or before/after view,
// its failure or cancellation, an export request; the status line over the view says where a run is.
import type { HostToWebview } from '../../src/shared/protocol';
import { CLASS, RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import { showCompare } from './compare';
import { exportPng } from './exportPng';
import { endFiltering } from './filters';
import { showRun } from './oneRun';
import type { ResultsState } from './state';

const VIEWS = [RESULTS_ID.run.view, RESULTS_ID.compare.view];

function showStatus(text: string, busy: boolean, isError = false): void {
  const status = el(RESULTS_ID.status);
  status.hidden = !text;
  status.classList.toggle(CLASS.error, isError);
  el(RESULTS_ID.statusText).textContent = text;
  el(RESULTS_ID.busy).hidden = !busy;
  el(RESULTS_ID.cancel).hidden = !busy;
}

/** A result that cannot be drawn (an image that does not decode, say) says so instead of leaving the view as it was. */
function showing(shown: Promise<void>): void {
  shown.catch((error: unknown) => showStatus(`Could not show the result: ${error instanceof Error ? error.message : String(error)}`, false, true));
}

export function onHostMessage(state: ResultsState, message: HostToWebview): void {
  switch (message.type) {
    case 'runStarted':
      state.runningId = message.runId;
      showStatus(`${message.kind === 'finetune' ? 'Finetuning' : message.kind === 'compare' ? 'Comparing' : 'Generating'} “${message.prompt}”…`, true);
      break;
    case 'progress':
      if (message.runId === state.runningId) showStatus(message.message ?? `Step ${message.step} of ${message.totalSteps}`, true);
      break;
    case 'result':
      state.runningId = undefined;
      showStatus('', false);
      for (const id of VIEWS) el(id).classList.remove(CLASS.stale);
      showing(showRun(state, message.run));
      break;
    case 'compare':
      state.runningId = undefined;
      showStatus('', false);
      for (const id of VIEWS) el(id).classList.remove(CLASS.stale);
      showing(showCompare(state, message.view));
      break;
    case 'runFailed': {
      state.runningId = undefined;
      const shown = state.mode !== undefined && state.filtering === undefined;
      endFiltering(state);
      // What is below is an older result: say so, and dim it, so it is not read as this run's.
      showStatus(`Run failed: ${message.message}${shown ? ' — the result below is the previous one' : ''}`, false, true);
      for (const id of VIEWS) el(id).classList.toggle(CLASS.stale, shown);
      break;
    }
    case 'runCancelled':
      state.runningId = undefined;
      endFiltering(state);
      showStatus('Run cancelled.', false);
      break;
    case 'exportRequest':
      void exportPng(state);
      break;
  }
}
