// The words of the prompt as a toolbar of chips: one selected, arrow keys, Home and End move the selection.
import type { WordView } from '../../src/shared/protocol';

export interface ChipOptions {
  selected: number;
  /** The selected chip shows as pressed (not while the overlay is off). */
  pressed: boolean;
  activations?: { word: string; value: number }[];
  /** A chip was clicked (the selected one too). */
  click(index: number): void;
  /** The keyboard moved the selection. */
  select(index: number): void;
}

export function renderChips(chips: HTMLElement, words: WordView[], options: ChipOptions): void {
  chips.replaceChildren();
  words.forEach((word, i) => {
    const chip = document.createElement('button');
    chip.className = `chip${word.isObject ? ' object' : ''}${word.isSpecial ? ' special' : ''}`;
    chip.textContent = word.word;
    const activation = options.activations?.find((a) => a.word === word.word);
    chip.title = `tokens ${word.tokenIndices.join(', ')}${activation ? ` · activation ${activation.value.toFixed(3)}` : ''}`;
    chip.setAttribute('aria-pressed', String(i === options.selected && options.pressed));
    chip.tabIndex = i === options.selected ? 0 : -1;
    chip.addEventListener('click', () => options.click(i));
    chip.addEventListener('keydown', (e) => {
      const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? words.length - 1 : -2;
      if (next === -2) return;
      e.preventDefault();
      const target = Math.min(words.length - 1, Math.max(0, next));
      options.select(target);
      (chips.children[target] as HTMLElement | undefined)?.focus();
    });
    chips.append(chip);
  });
}
