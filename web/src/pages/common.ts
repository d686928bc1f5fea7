// Pieces shared by the analysis pages: the selection form and the default period.
import { CATEGORIES } from '../categories';
import { h, label, addDays } from '../dom';
import type { Dataset } from '../api';
import { lastEventDay } from '../state';

export interface Selection {
  category: string;
  from: string;
  to: string;
}

/** The last `days` days with data: [last event day + 1 − days, last event day + 1). */
export function defaultPeriod(d: Dataset | undefined, days: number): { from: string; to: string } {
  const last = lastEventDay(d);
  if (!last) return { from: '', to: '' };
  const to = addDays(last, 1);
  return { from: addDays(to, -days), to };
}

export function selectionForm(
  id: string,
  initial: Selection,
  onSubmit: (s: Selection) => void,
  extra: HTMLElement[] = [],
): HTMLFormElement {
  const category = h('select', { name: 'category', id: `${id}-category` }, h('option', { value: '' }, 'all categories'),
    CATEGORIES.map((c) => h('option', { value: c }, label(c))));
  category.value = initial.category;
  const from = h('input', { type: 'date', name: 'from', id: `${id}-from`, value: initial.from });
  const to = h('input', { type: 'date', name: 'to', id: `${id}-to`, value: initial.to });
  const form = h('form', { class: 'filters inline', id },
    h('label', {}, 'Category', category),
    h('label', {}, 'From', from),
    h('label', {}, 'To (excluded)', to),
    extra,
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onSubmit({ category: category.value, from: from.value, to: to.value });
  });
  return form;
}

export function section(title: string, ...children: (Node | string | null | undefined)[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}
