// Table cells and header rows for the score, delta and detector tables.

export function cell(tag: 'th' | 'td', text: string, className?: string): HTMLElement {
  const c = document.createElement(tag);
  c.textContent = text;
  if (className) c.className = className;
  return c;
}

export function headRow(labels: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const label of labels) {
    const th = document.createElement('th');
    th.textContent = label;
    th.scope = 'col';
    tr.append(th);
  }
  return tr;
}
