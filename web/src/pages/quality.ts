// The data-quality report (docs/CLI.md `quality --json`), readable.
import * as api from '../api';
import { h, clear, int, num, pct, label, errorBox } from '../dom';
import { currentDataset } from '../state';
import { section } from './common';

export async function qualityPage(root: HTMLElement): Promise<void> {
  const dataset = currentDataset()!;
  const out = h('div', { class: 'results', id: 'quality' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('h1', {}, `Data quality: ${dataset.name}`), out);
  let q: api.Quality;
  try {
    q = await api.quality(dataset.name, { show_rows: 20 });
  } catch (e) {
    clear(out);
    out.append(errorBox(e));
    return;
  }
  clear(out);

  const quarantined = q.reasons.filter((r) => r.code !== 'DUPLICATE').reduce((a, r) => a + r.count, 0);
  out.append(h('div', { class: 'cards' },
    card('Events', int(q.events), `${int(q.retracted_events)} retracted (not counted)`),
    card('Set aside', int(quarantined), `rows quarantined with a reason, plus ${int(q.duplicates)} duplicates`),
    card('Without a location', int(q.without_location.total), `${pct(q.events ? q.without_location.total / q.events : 0)} of events: in totals and trends, not on maps`),
    card('Period', q.first_occurrence ?? '–', `to ${q.last_occurrence ?? '–'} (${q.time_zone})`)));

  out.append(section('Rows set aside, by reason',
    q.reasons.length === 0 ? h('p', {}, 'None: every row was loaded.') :
      table(['code', 'rows', 'what it means'], q.reasons.map((r) => [h('code', {}, r.code), int(r.count), r.explanation]), 'reasons'),
    h('p', {}, `Retractions: ${int(q.retractions.matched)} matched to their original, ${int(q.retractions.unmatched)} without an original.`)));

  const years = Object.keys(q.by_year).sort();
  const total = (y: string) => Object.values(q.by_year[y] ?? {}).reduce((a, b) => a + b, 0);
  const grand = years.reduce((a, y) => a + total(y), 0);
  const main = years.filter((y) => total(y) >= grand * 0.01);
  const other = years.filter((y) => !main.includes(y));
  const cats = [...new Set(years.flatMap((y) => Object.keys(q.by_year[y] ?? {})))].sort();
  const cell = (c: string, ys: string[]) => ys.reduce((a, y) => a + (q.by_year[y]?.[c] ?? 0), 0);
  out.append(section('Events by year and category (local time)',
    h('div', { class: 'table-wrap' }, table(
      ['category', ...(other.length ? [`other years (${other.length})`] : []), ...main],
      cats.map((c) => [label(c), ...(other.length ? [int(cell(c, other))] : []), ...main.map((y) => int(q.by_year[y]?.[c] ?? 0))]),
      'by-year')),
    other.length ? h('p', { class: 'muted small' }, `"Other years": ${other.join(', ')}, each under 1% of events (often placeholder or mistyped dates).`) : null));

  out.append(section('Without a location, by category',
    h('p', {}, q.without_location.note),
    table(['category', 'events', 'without a point', 'share'],
      [...q.without_location.by_category].sort((a, b) => b.share - a.share).map((r) => [
        label(r.category), int(r.events), int(r.without_point),
        h('span', { class: 'bar' }, h('i', { style: `width:${(r.share * 100).toFixed(1)}%` }), pct(r.share))]),
      'without-location')));

  out.append(section('Category coding drift',
    q.drift.length === 0 ? h('p', {}, 'None flagged.') :
      table(['category', 'years', 'share before', 'share after', 'events before', 'events after'],
        q.drift.map((d) => [label(d.category), `${d.from_year} → ${d.to_year}`, `${num(d.share_before_pct, 1)}%`, `${num(d.share_after_pct, 1)}%`, int(d.count_before), int(d.count_after)]), 'drift'),
    h('p', { class: 'muted small' }, `Rule: ${q.drift_rule}.`)));

  if (q.quarantined_rows.length > 0) {
    out.append(section(`Sample of rows set aside (${q.quarantined_rows.length})`,
      h('div', { class: 'table-wrap' }, table(['file', 'row', 'column', 'reason', 'detail', 'mapped fields'],
        q.quarantined_rows.map((r) => [r.file, String(r.row), r.column ?? '–', h('code', {}, r.reason), r.detail, h('small', {}, r.raw)]),
        'quarantined'))));
  }
}

function card(title: string, value: string, note: string): HTMLElement {
  return h('div', { class: 'card stat' }, h('div', { class: 'stat-title' }, title), h('div', { class: 'stat-value' }, value), h('div', { class: 'muted small' }, note));
}

const numeric = (c: string | Node | undefined): boolean => typeof c === 'string' && /^[\d,.–%×\s-]+$/.test(c);

function table(head: string[], rows: (string | Node)[][], id: string): HTMLTableElement {
  return h('table', { class: 'data', id },
    h('thead', {}, h('tr', {}, head.map((t, i) => h('th', { class: numeric(rows[0]?.[i]) ? 'n' : '' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', { class: numeric(c) ? 'n' : '' }, c))))));
}
