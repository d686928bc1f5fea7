// Pieces shared by the analysis pages: the selection form and the default period.
import { CATEGORIES } from '../categories';
import { h, clear, int, label, addDays } from '../dom';
import * as api from '../api';
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

/** "District 3" for `district=3`; '' for the whole jurisdiction. */
export function areaName(area: string): string {
  const i = area.indexOf('=');
  if (i < 0) return '';
  const level = area.slice(0, i);
  return `${level.charAt(0).toUpperCase()}${level.slice(1)} ${area.slice(i + 1)}`;
}

/** The area choice: a level (or the whole jurisdiction), then one of that level's codes, as
 * listed by the server for the last year with data (`api.areaCodes`). Element ids start with
 * `prefix` (`b` on the briefing: `b-area-level`, `b-area`, `b-area-note`). */
export function areaPicker(dataset: api.Dataset, initial: string, prefix: string): { element: HTMLElement; value: () => string } {
  const eq = initial.indexOf('=');
  const initialLevel = eq > 0 ? initial.slice(0, eq) : '';
  const initialCode = eq > 0 ? initial.slice(eq + 1) : '';
  const level = h('select', { id: `${prefix}-area-level`, name: 'area_level', 'aria-label': 'Area level' },
    h('option', { value: '' }, 'whole jurisdiction'),
    api.AREA_LEVELS.map((l) => h('option', { value: l }, l)));
  const code = h('select', { id: `${prefix}-area`, name: 'area', 'aria-label': 'Area code', hidden: true });
  const note = h('small', { class: 'area-note', id: `${prefix}-area-note`, 'aria-live': 'polite' });
  const cache = new Map<string, Promise<{ code: string; events: number }[]>>();
  let ticket = 0;

  async function fill(lvl: string, want: string): Promise<void> {
    const mine = ++ticket;
    clear(code);
    note.textContent = '';
    code.hidden = !lvl;
    if (!lvl) return;
    code.disabled = true;
    code.append(h('option', { value: '' }, 'loading…'));
    if (!cache.has(lvl)) {
      const p = api.areaCodes(dataset.name, lvl, defaultPeriod(dataset, 365));
      p.catch(() => cache.delete(lvl));
      cache.set(lvl, p);
    }
    let codes: { code: string; events: number }[];
    try {
      codes = await cache.get(lvl)!;
    } catch (e) {
      if (mine !== ticket) return;
      clear(code);
      code.hidden = true;
      note.textContent = e instanceof Error ? e.message : String(e);
      return;
    }
    if (mine !== ticket) return;
    clear(code);
    code.disabled = false;
    if (want && !codes.some((c) => c.code === want)) codes = [{ code: want, events: 0 }, ...codes];
    if (codes.length === 0) {
      code.hidden = true;
      note.textContent = `No events in the last year have a ${lvl} code: the selection stays city-wide.`;
      return;
    }
    for (const c of codes) {
      code.append(h('option', { value: c.code, title: c.events ? `${int(c.events)} events in the last year` : '' }, c.code));
    }
    code.value = want || codes[0]!.code;
  }

  level.value = initialLevel;
  if (initialLevel) void fill(initialLevel, initialCode);
  level.addEventListener('change', () => void fill(level.value, ''));
  return {
    element: h('label', { class: 'area-pick' }, 'Area', h('span', { class: 'area-selects' }, level, code), note),
    value: () => (level.value && !code.hidden && !code.disabled && code.value ? `${level.value}=${code.value}` : ''),
  };
}
