// A step slider over a run's timeline: positions 0..steps-1 are single steps, `steps` the aggregate.
import { stepLabel } from '../../src/shared/deltas';
import { el } from './dom';

export interface StepSliderIds {
  input: string;
  label: string;
  row: string;
}

export function setupStep(ids: StepSliderIds, position: number, steps: number, range?: { from: number; to: number }): void {
  const input = el<HTMLInputElement>(ids.input);
  el(ids.row).hidden = steps === 0;
  input.max = String(steps);
  input.value = String(position);
  input.setAttribute('aria-valuetext', stepLabel(position, steps, range));
  el(ids.label).textContent = steps > 0 ? stepLabel(position, steps, range) : '';
}
