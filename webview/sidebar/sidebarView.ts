// The sidebar run panel: model and provider, the active file's run settings, the run queue with
// progress and cancel, finetune controls, saved key sets (click = Compare) and the run history with
// thumbnails (click = open in the results panel). Browser code; state comes from the host.
import type { FinetuneSettingSource, HistoryItem, JobView, KeySetItem, SettingRow, SidebarState, SidebarToHost, SidebarToWebview } from '../../src/shared/protocol';
import { packMessage, unpackMessage, type PackedMessage } from '../../src/shared/packedMessage';
import { folderDate, trainedOnLabel } from '../../src/shared/keySetName';
import { historyGroups } from '../../src/shared/historyGroups';
import { CLASS, DATA, SIDEBAR_ID } from '../../src/shared/webviewDom';
import { pngUrl, revokeUrl } from '../widgets/blobUrls';
import { el, type VsCodeApi } from '../widgets/dom';

/** What the run panel says beside a finetune value it did not get from the user's typing. */
const FINETUNE_SOURCE: Record<FinetuneSettingSource, string> = { override: '', setting: '(your setting)', model: '(model default)', engine: '(engine default)' };

/** What the run panel keeps across its webview being hidden and shown again: the finetune values the user typed. */
export interface SidebarWebviewState {
  typed?: { steps?: string; lr?: string };
}

export function startSidebar(vscode: VsCodeApi<SidebarWebviewState>): void {
  const post = (message: SidebarToHost): void => vscode.postMessage(packMessage(message));
  const kept: SidebarWebviewState = vscode.getState() ?? {};
  // Values typed before the view was hidden come back, still counted as typed.
  for (const [id, value] of [
    [SIDEBAR_ID.finetuneSteps, kept.typed?.steps],
    [SIDEBAR_ID.finetuneLr, kept.typed?.lr],
  ] as const) {
    if (value === undefined) continue;
    el<HTMLInputElement>(id).value = value;
    el<HTMLInputElement>(id).dataset.touched = '1';
  }
  const keepTyped = (): void => {
    const typed = (id: string): string | undefined => (el<HTMLInputElement>(id).dataset.touched ? el<HTMLInputElement>(id).value : undefined);
    vscode.setState({ typed: { steps: typed(SIDEBAR_ID.finetuneSteps), lr: typed(SIDEBAR_ID.finetuneLr) } });
  };
  let state: SidebarState | undefined;
  let jobs: JobView[] = [];
  /** Thumbnail blob: URLs by run folder, kept while the run is in the history. */
  const thumbnails = new Map<string, string>();

  window.addEventListener('message', (event: MessageEvent<PackedMessage<SidebarToWebview>>) => {
    const message = unpackMessage(event.data);
    if (message.type === 'state') {
      state = message.state;
      render();
    } else if (message.type === 'jobs') {
      jobs = message.jobs;
      renderJobs();
      report();
    }
  });

  el(SIDEBAR_ID.generate).addEventListener('click', () => post({ type: 'generate' }));
  el(SIDEBAR_ID.finetune).addEventListener('click', () => {
    const stepsField = el<HTMLInputElement>(SIDEBAR_ID.finetuneSteps);
    const lrField = el<HTMLInputElement>(SIDEBAR_ID.finetuneLr);
    const steps = Math.round(Number(stepsField.value));
    const lr = Number(lrField.value);
    if (!(steps > 0) || !(lr > 0)) {
      stepsField.setAttribute('aria-invalid', String(!(steps > 0)));
      lrField.setAttribute('aria-invalid', String(!(lr > 0)));
      return;
    }
    // Untouched fields show the model's or the user's settings: the host resolves them again, so they are not sent.
    post({ type: 'finetune', ...(stepsField.dataset.touched ? { steps } : {}), ...(lrField.dataset.touched ? { lr } : {}) });
  });

  function render(): void {
    if (!state) return;
    const s = state;
    el(SIDEBAR_ID.model).textContent = s.model
      ? `${s.model.id} on ${s.model.provider}${s.model.fallbacks.length ? ` (skipped: ${s.model.fallbacks.join('; ')})` : ''}${s.model.fromHistory ? ' (last run)' : ''}`
      : 'No run yet in this window.';
    if (!s.trusted) el(SIDEBAR_ID.model).textContent += ' · untrusted workspace: embedded models only';
    el(SIDEBAR_ID.file).textContent = s.file ? `${s.file.name}${s.file.prompt ? ` — “${s.file.prompt}”` : ''}` : 'Open a .prompt file.';
    const settings = el(SIDEBAR_ID.settings);
    // Do not pull an input away from under the user's cursor while they type in it.
    if (!settings.contains(document.activeElement)) settings.replaceChildren(
      ...(s.file?.settings ?? []).map((row) => {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.textContent = row.key;
        const td = document.createElement('td');
        if (row.editable && (row.key === 'seed' || row.key === 'steps' || row.key === 'guidance')) {
          const key = row.key;
          const input = document.createElement('input');
          input.type = 'number';
          input.className = `input${row.source === 'file' ? '' : ' default'}`;
          input.value = row.value;
          input.step = key === 'guidance' ? 'any' : '1';
          input.min = key === 'steps' ? '1' : '0';
          input.setAttribute(DATA.setting, key);
          input.setAttribute('aria-label', `${key} (${SOURCE_LABEL[row.source]})`);
          input.title = row.source === 'file' ? `${key} in the front matter; change it here or in the file` : `${SOURCE_TITLE[row.source]}; a change writes it into the front matter`;
          input.addEventListener('change', () => {
            const value = Number(input.value);
            if (input.value !== '' && String(value) !== row.value) post({ type: 'setSetting', key, value });
          });
          td.append(input);
        } else {
          td.textContent = row.value;
          if (row.source !== 'file') {
            td.className = 'muted';
            td.title = SOURCE_TITLE[row.source];
          }
        }
        // "2 (model default)": a value the file leaves to the model's recommendation says so.
        if (row.source === 'model') td.append(modelDefaultNote());
        tr.append(th, td);
        return tr;
      }),
    );
    el(SIDEBAR_ID.generate).toggleAttribute('disabled', !s.file);
    el(SIDEBAR_ID.finetune).toggleAttribute('disabled', !s.file);
    const steps = el<HTMLInputElement>(SIDEBAR_ID.finetuneSteps);
    const lr = el<HTMLInputElement>(SIDEBAR_ID.finetuneLr);
    // Keep what the user is typing; fill in the settings' defaults otherwise.
    if (document.activeElement !== steps && !steps.dataset.touched) steps.value = String(s.finetune.steps);
    if (document.activeElement !== lr && !lr.dataset.touched) lr.value = String(s.finetune.lr);
    const sourceLabel = (field: HTMLInputElement, source: FinetuneSettingSource) => (field.dataset.touched ? '' : FINETUNE_SOURCE[source]);
    el(SIDEBAR_ID.finetuneStepsSource).textContent = sourceLabel(steps, s.finetune.sources.steps);
    el(SIDEBAR_ID.finetuneLrSource).textContent = sourceLabel(lr, s.finetune.sources.lr);
    steps.oninput = () => {
      steps.dataset.touched = '1';
      el(SIDEBAR_ID.finetuneStepsSource).textContent = '';
      keepTyped();
    };
    lr.oninput = () => {
      lr.dataset.touched = '1';
      el(SIDEBAR_ID.finetuneLrSource).textContent = '';
      keepTyped();
    };
    renderKeySets(s.keySets);
    renderHistory(s.history);
    renderJobs();
    report();
  }

  function renderJobs(): void {
    const list = el(SIDEBAR_ID.queue);
    list.replaceChildren(
      ...jobs.map((job) => {
        const li = document.createElement('li');
        li.className = `${CLASS.job} ${job.state}`;
        li.dataset.job = job.id;
        const title = document.createElement('div');
        title.className = 'row';
        const label = document.createElement('span');
        label.className = 'grow ellipsis';
        label.textContent = `${job.kind[0].toUpperCase()}${job.kind.slice(1)}: ${job.label}`;
        label.title = label.textContent;
        const cancel = document.createElement('vscode-button');
        cancel.setAttribute('appearance', 'icon');
        cancel.setAttribute('aria-label', `Cancel ${job.kind} ${job.label}`);
        cancel.title = 'Cancel';
        cancel.textContent = '✕';
        cancel.addEventListener('click', () => post({ type: 'cancel', jobId: job.id }));
        title.append(label, cancel);
        const progress = document.createElement('progress');
        progress.max = Math.max(1, job.totalSteps);
        progress.value = job.totalSteps > 0 ? job.step : 0;
        progress.setAttribute('aria-label', `${job.kind} progress`);
        if (job.totalSteps === 0) progress.removeAttribute('value');
        const detail = document.createElement('div');
        detail.className = 'muted small';
        detail.textContent = job.detail;
        li.append(title, progress, detail);
        return li;
      }),
    );
    el(SIDEBAR_ID.queueEmpty).hidden = jobs.length > 0;
  }

  function renderKeySets(keySets: KeySetItem[]): void {
    const list = el(SIDEBAR_ID.keySets);
    list.replaceChildren(
      ...keySets.map((k) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.className = `${CLASS.item}${k.matchesFile ? '' : ' other-model'}`;
        button.dataset.keyset = k.id;
        button.title = `${k.id}\nCompare the cursor's prompt with these keys, trained on:\n${k.prompts.join('\n')}`;
        // Named by what it was trained on and when; the folder name is in the tooltip.
        const name = document.createElement('span');
        name.className = 'ellipsis';
        name.textContent = trainedOnLabel(k.prompts, k.id);
        const meta = document.createElement('span');
        meta.className = 'muted small';
        const when = folderDate(k.id);
        meta.textContent = `${when ? `${when} · ` : ''}${k.model} · ${k.steps} steps · lr ${k.lr}${k.finalLoss !== undefined ? ` · loss ${k.finalLoss.toFixed(4)}` : ''}${k.matchesFile ? '' : ' · other model'}`;
        button.append(name, meta);
        button.disabled = !k.matchesFile || !state?.file;
        button.addEventListener('click', () => post({ type: 'compare', keySetFile: k.file }));
        const open = document.createElement('vscode-button');
        open.setAttribute('appearance', 'secondary');
        open.setAttribute('aria-label', `Show the before/after runs of ${k.id}`);
        open.title = 'Show its before/after view';
        open.textContent = 'View';
        open.addEventListener('click', () => post({ type: 'openFinetune', folder: k.folder }));
        li.className = 'row';
        li.append(button, open);
        return li;
      }),
    );
    el(SIDEBAR_ID.keySetsEmpty).hidden = keySets.length > 0;
  }

  function thumbnailUrl(item: HistoryItem): string | undefined {
    if (!item.thumbnail) return undefined;
    let url = thumbnails.get(item.folder);
    if (!url) {
      url = pngUrl(item.thumbnail);
      thumbnails.set(item.folder, url);
    }
    return url;
  }

  function renderHistory(history: HistoryItem[]): void {
    const list = el(SIDEBAR_ID.history);
    // Runs gone from the history (deleted, or past its length) take their thumbnails' URLs with them.
    const listed = new Set(history.map((h) => h.folder));
    for (const [folder, url] of thumbnails) {
      if (listed.has(folder)) continue;
      revokeUrl(url);
      thumbnails.delete(folder);
    }
    list.replaceChildren(
      ...historyGroups(history).map((group) => {
        if (group.length === 1) return runRow(group[0]);
        // The runs of one Generate over a seed list: one entry, its seeds inside.
        const li = document.createElement('li');
        li.className = 'group';
        const head = document.createElement('span');
        head.className = 'muted small';
        head.textContent = `Generate of ${group.length} seeds (${group.map((r) => r.seed ?? '?').join(', ')})`;
        const inner = document.createElement('ul');
        inner.className = 'list';
        inner.append(...group.map(runRow));
        li.append(head, inner);
        return li;
      }),
    );
    el(SIDEBAR_ID.historyEmpty).hidden = history.length > 0;
  }

  function runRow(run: HistoryItem): HTMLLIElement {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.className = `${CLASS.item} ${CLASS.run}`;
    button.dataset.run = run.id;
    button.title = `Open ${run.id} in the results panel`;
    const url = thumbnailUrl(run);
    if (url) {
      const img = document.createElement('img');
      img.src = url;
      img.alt = '';
      img.width = 40;
      img.height = 40;
      button.append(img);
    }
    const text = document.createElement('span');
    text.className = 'text';
    const prompt = document.createElement('span');
    prompt.className = 'ellipsis';
    prompt.textContent = run.prompt;
    const meta = document.createElement('span');
    meta.className = 'muted small';
    const when = run.createdAt ? new Date(run.createdAt).toLocaleString() : run.id;
    meta.textContent = `${when} · seed ${run.seed ?? '?'} · ${run.steps ?? '?'} steps${run.overlap !== undefined ? ` · overlap ${run.overlap.toFixed(3)}` : ''}${run.filtered ? ` · maps filtered: ${run.filtered.recipe}` : ''}`;
    text.append(prompt, meta);
    button.append(text);
    button.addEventListener('click', () => post({ type: 'openRun', folder: run.folder }));
    li.append(button);
    return li;
  }

  function report(): void {
    post({
      type: 'rendered',
      history: state?.history.map((h) => h.id) ?? [],
      keySets: state?.keySets.map((k) => k.id) ?? [],
      jobs: jobs.map((j) => j.id),
      ...(state?.model ? { model: `${state.model.id} on ${state.model.provider}` } : {}),
    });
  }

  post({ type: 'ready' });
}

const SOURCE_LABEL: Record<SettingRow['source'], string> = {
  file: 'front matter',
  model: 'model default',
  engine: 'default',
};

const SOURCE_TITLE: Record<Exclude<SettingRow['source'], 'file'>, string> = {
  model: "the model's recommended default (its prompt_lens.json), not in the front matter",
  engine: 'default (not in the front matter)',
};

function modelDefaultNote(): HTMLSpanElement {
  const note = document.createElement('span');
  note.className = 'muted';
  note.style.whiteSpace = 'nowrap'; // the cell breaks anywhere (long paths); the note reads as one piece
  note.textContent = ` (${SOURCE_LABEL.model})`;
  return note;
}
