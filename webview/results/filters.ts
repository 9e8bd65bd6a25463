// The layer, head and step filters of one run's maps: set to the shown maps' filter; a change asks the host
// to make the maps again (a view of the same run), the display-only scale redraws at once.
import { filterFrom, headOptions, layerOptions, layerValue, sameFilter, type FilterOption } from '../../src/shared/analysis';
import { RESULTS_ID } from '../../src/shared/webviewDom';
import { el } from '../widgets/dom';
import type { ResultsState } from './state';

const ID = RESULTS_ID.run;

/** The layer, head and step filters, set to the shown run's filter. */
export function renderFilters(state: ResultsState): { layers: FilterOption[]; heads: FilterOption[] } {
  const run = state.single?.run;
  const layers = run?.layers ?? [];
  el(ID.filters).hidden = layers.length === 0;
  const scale = el<HTMLSelectElement>(ID.scale);
  scale.value = state.saved.scale ?? 'map';
  const recipe = run?.mapRecipe ?? '';
  el(ID.recipe).textContent = layers.length === 0 ? `${recipe}${recipe ? ' · ' : ''}this run record does not list its layers, so the maps cannot be filtered` : `${recipe}. Single steps of the step slider show every layer and head.`;
  if (!run || layers.length === 0) return { layers: [], heads: [] };
  const { shownFilter } = state;
  const layerList = layerOptions(layers);
  const headList = headOptions(layers, shownFilter);
  fillSelect(el<HTMLSelectElement>(ID.layerFilter), layerList, layerValue(shownFilter));
  fillSelect(el<HTMLSelectElement>(ID.headFilter), headList, shownFilter.head !== undefined ? String(shownFilter.head) : '');
  for (const [id, value] of [
    [ID.firstStep, (shownFilter.steps?.from ?? 0) + 1],
    [ID.lastStep, (shownFilter.steps?.to ?? run.steps - 1) + 1],
  ] as const) {
    const input = el<HTMLInputElement>(id);
    input.max = String(run.steps);
    input.value = String(value);
  }
  return { layers: layerList, heads: headList };
}

function fillSelect(select: HTMLSelectElement, options: FilterOption[], value: string): void {
  select.replaceChildren();
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const o of options) {
    const option = document.createElement('option');
    option.value = o.value;
    option.textContent = o.label;
    let parent: HTMLElement = select;
    if (o.group) {
      let group = groups.get(o.group);
      if (!group) {
        group = document.createElement('optgroup');
        group.label = o.group;
        groups.set(o.group, group);
        select.append(group);
      }
      parent = group;
    }
    parent.append(option);
  }
  select.value = options.some((o) => o.value === value) ? value : '';
}

/** Asks the host to make the maps again with the filters' layers, heads and steps. */
function requestFilter(state: ResultsState, layerChanged: boolean): void {
  if (!state.single) return;
  const { run } = state.single;
  let head = el<HTMLSelectElement>(ID.headFilter).value;
  const layer = el<HTMLSelectElement>(ID.layerFilter).value;
  if (layerChanged && head !== '') {
    // A head the newly chosen layers do not all have would only fail: back to all heads.
    const probe = filterFrom(layer, '', 1, run.steps, run.steps);
    if (!headOptions(run.layers ?? [], probe).some((o) => o.value === head)) head = '';
  }
  const filter = filterFrom(layer, head, Number(el<HTMLInputElement>(ID.firstStep).value), Number(el<HTMLInputElement>(ID.lastStep).value), run.steps);
  if (sameFilter(filter, state.shownFilter) && !state.filtering) return;
  state.filtering = run.runFolder;
  el(ID.filters).setAttribute('aria-busy', 'true');
  state.post({ type: 'filterMaps', runFolder: run.runFolder, filter });
}

/** A filter re-run ended without a result: the controls show the shown maps' filter again. */
export function endFiltering(state: ResultsState): void {
  if (state.filtering === undefined) return;
  state.filtering = undefined;
  el(ID.filters).setAttribute('aria-busy', 'false');
  if (state.mode === 'run') renderFilters(state);
}

export function wireFilters(state: ResultsState): void {
  for (const id of [ID.layerFilter, ID.headFilter, ID.firstStep, ID.lastStep]) el(id).addEventListener('change', () => requestFilter(state, id === ID.layerFilter));
  el<HTMLSelectElement>(ID.scale).addEventListener('change', (e) => {
    state.save({ scale: (e.target as HTMLSelectElement).value === 'shared' ? 'shared' : 'map' });
    state.actions.redraw();
  });
}
