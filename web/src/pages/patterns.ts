// Time patterns: hour × weekday heat map, by hour, weekly series with its trend, months, shifts.
import * as api from '../api';
import { barChart, lineChart, matrixHeat } from '../charts/svg';
import { h, clear, int, num, pct, pEq, label, localDate, lastDay, errorBox } from '../dom';
import { replaceParams } from '../router';
import { currentDataset } from '../state';
import { defaultPeriod, section, selectionForm, type Selection } from './common';

export async function patternsPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const dataset = currentDataset()!;
  const period = defaultPeriod(dataset, 365);
  const sel: Selection = {
    category: params.get('category') ?? '',
    from: params.get('from') ?? period.from,
    to: params.get('to') ?? period.to,
  };
  const out = h('div', { class: 'results', id: 'patterns' });
  const form = selectionForm('patterns-filters', sel, (s) => {
    Object.assign(sel, s);
    replaceParams(Object.fromEntries(Object.entries(sel).filter(([, v]) => v)));
    void show();
  });
  root.append(h('h1', {}, 'Patterns'), form, out);

  async function show(): Promise<void> {
    clear(out);
    out.append(h('p', { class: 'muted' }, 'Loading…'));
    let p: api.Patterns;
    try {
      p = await api.patterns(dataset.name, { ...sel });
    } catch (e) {
      clear(out);
      out.append(errorBox(e));
      return;
    }
    clear(out);
    const g = p.groups[0];
    if (!g) {
      out.append(h('p', {}, 'No events in this selection.'));
      return;
    }
    const tz = p.time_zone;
    const cats = p.categories.length ? p.categories.map(label).join(', ') : 'all categories';
    out.append(h('p', { class: 'lead' },
      `${int(g.events)} events (${cats}), ${localDate(p.from, tz)} to ${lastDay(p.to, tz)}, local time (${tz}). `,
      `${int(g.time_known)} with a usable time window; ${int(g.time_unknown)} with windows too long to place in time. `,
      'Events known only within a window are spread over the hours it covers (aoristic method).'));

    const hw = g.hour_week;
    const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0'));
    out.append(section('Hour × weekday',
      matrixHeat(hw.values, hw.weekdays, hours, { title: 'Events by local hour and weekday', unit: 'events' }),
      barChart(hw.by_hour, hours.map((x) => `${x}:00`), { title: 'Events by hour of day', yLabel: 'events', height: 180 })));

    const weeks = g.weekly.weeks;
    const trend = g.weekly.trend;
    const series: { name: string; colour: string; points: [number, number][]; dashed?: boolean }[] = [
      { name: 'events per week', colour: '#3b6ea5', points: weeks.map((w, i) => [i, w.value]) },
    ];
    if (trend) {
      const complete = weeks.map((w, i) => (w.complete ? i : -1)).filter((i) => i >= 0);
      // OLS over the complete weeks, numbered 1, 2, … (CLI: weekly.trend).
      series.push({
        name: 'trend (OLS)', colour: '#c0392b', dashed: true,
        points: complete.map((i, k) => [i, trend.intercept + trend.slope_per_week * (k + 1)]),
      });
    }
    const step = Math.max(1, Math.ceil(weeks.length / 8));
    out.append(section('Weekly trend',
      lineChart(series, {
        title: 'Events per ISO week with the OLS trend', xLabel: 'ISO week', yLabel: 'events',
        xTicks: weeks.map((_, i) => i).filter((i) => i % step === 0), xTick: (i) => weeks[i]?.week ?? '',
      }),
      trend
        ? h('p', { id: 'trend-text' },
            `Trend over ${trend.weeks} complete weeks: ${trend.slope_per_week >= 0 ? '+' : ''}${num(trend.slope_per_week)} events/week per week `,
            `(standard error ${num(trend.slope_se)}, ${pEq(trend.p)}${trend.p < 0.05 ? '' : ', within chance'}). Incomplete weeks at the edges are drawn but not fitted.`)
        : h('p', { class: 'muted' }, 'Fewer than three complete weeks: no trend.')));

    out.append(section('Months',
      barChart(g.monthly.series.map((m) => m.value), g.monthly.series.map((m) => m.month), {
        title: 'Events per local month', yLabel: 'events', height: 180, highlight: g.monthly.series.map((m) => m.complete),
      }),
      h('p', { class: 'muted small' }, 'Grey bars: months only partly inside the period.')));

    const sh = g.shifts;
    out.append(section('Shifts',
      h('table', { class: 'data', id: 'shifts' },
        h('thead', {}, h('tr', {}, ['shift', 'hours', 'events', 'share', 'per clock hour', 'rate vs even spread'].map((t) => h('th', {}, t)))),
        h('tbody', {}, sh.shifts.map((x) => h('tr', {},
          h('td', {}, x.name), h('td', { class: 'n' }, String(x.hours)), h('td', { class: 'n' }, num(x.amount, 1)),
          h('td', { class: 'n' }, pct(x.share)), h('td', { class: 'n' }, num(x.per_clock_hour, 1)),
          h('td', { class: 'n' }, `×${num(x.rate_ratio)}`))))),
      h('p', {}, sh.p === null
        ? 'Too few events to test the spread over shifts.'
        : `Shifts ${sh.p < 0.05 ? 'differ' : 'do not differ'} from an even spread by length: χ² = ${num(sh.chi_square, 1)}, df = ${sh.df}, ${pEq(sh.p)}.`)));
  }

  await show();
}
