// Forecasts: a map of the current forecast for a chosen model, horizon and area budget
// (forecast-map.ts), and a backtest of several models on the dataset's own history, as a
// leaderboard (PAI, hit rate, PEI* at each coverage level) and PAI / hit-rate curves.
import * as api from '../api';
import { CATEGORIES, MODELS } from '../categories';
import { lineChart } from '../charts/svg';
import { h, clear, int, num, pct, label, localDate, addDays, errorBox } from '../dom';
import { href, replaceParams, type Cleanup } from '../router';
import { currentDataset, lastEventDay } from '../state';
import { section } from './common';
import { HORIZON_CHOICES, forecastMapSection, forecastRouteParams, forecastSettings } from './forecast-map';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const DEFAULT_MODELS = ['naive', 'historical', 'retrospective', 'prospective', 'stkde'];

export async function forecastsPage(root: HTMLElement, params: URLSearchParams): Promise<Cleanup> {
  const dataset = currentDataset()!;
  const last = lastEventDay(dataset);
  const origins = Number(params.get('origins') ?? 12);
  const horizon = Number(params.get('horizon_days') ?? 7);
  const settings = {
    category: params.get('category') ?? 'residential_burglary',
    models: (params.get('models') ?? DEFAULT_MODELS.join(',')).split(',').filter(Boolean),
    cell_size: params.get('cell_size') ?? '250',
    train_days: params.get('train_days') ?? '180',
    horizon_days: String(horizon),
    origins: String(origins),
    start: params.get('start') ?? (last ? addDays(addDays(last, 1), -origins * horizon) : ''),
  };

  const category = h('select', { name: 'category', id: 'bt-category' },
    CATEGORIES.map((c) => h('option', { value: c }, label(c))));
  category.value = settings.category;
  const models = h('fieldset', { class: 'models' }, h('legend', {}, 'Models'),
    MODELS.map((m) => {
      const box = h('input', { type: 'checkbox', name: 'models', value: m });
      box.checked = settings.models.includes(m);
      return h('label', { class: 'toggle' }, box, m);
    }));
  const start = h('input', { type: 'date', name: 'start', id: 'bt-start', value: settings.start });
  const nOrigins = h('input', { type: 'number', name: 'origins', min: 1, max: 104, value: settings.origins });
  const cellSize = h('select', { name: 'cell_size' }, ['150', '250', '500'].map((v) => h('option', { value: v }, `${v} m`)));
  cellSize.value = settings.cell_size;
  const form = h('form', { class: 'filters inline', id: 'backtest-form' },
    h('label', {}, 'Category', category),
    h('label', {}, 'First origin', start),
    h('label', {}, 'Origins (weekly)', nOrigins),
    h('label', {}, 'Cell size', cellSize),
    models,
    h('button', { type: 'submit' }, 'Run backtest'));
  const out = h('div', { class: 'results', id: 'backtest' });
  const fcSettings = forecastSettings(params, { category: settings.category, cell_size: settings.cell_size });
  const syncUrl = (): void =>
    replaceParams({ ...settings, models: settings.models.join(','), ...forecastRouteParams(fcSettings) });
  const forecastMap = forecastMapSection(dataset, fcSettings, syncUrl);
  root.append(h('h1', {}, 'Forecasts'),
    forecastMap.element,
    h('h2', { class: 'page-section' }, 'Backtest'),
    h('p', { class: 'muted' }, 'Each model is fitted at every origin on the days before it only, and scored on the week after. PAI: the share of events in the flagged cells divided by the share of the area they cover.'),
    form, out);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    settings.category = category.value;
    settings.models = [...models.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value);
    settings.start = start.value;
    settings.origins = nOrigins.value;
    settings.cell_size = cellSize.value;
    syncUrl();
    void run();
  });

  async function run(): Promise<void> {
    clear(out);
    out.append(h('p', { class: 'muted' }, 'Running the backtest…'));
    let bt: api.Backtest;
    try {
      bt = await api.backtest(dataset.name, { ...settings, models: settings.models.join(',') });
    } catch (e) {
      clear(out);
      out.append(errorBox(e));
      return;
    }
    clear(out);
    render(bt);
  }

  function render(bt: api.Backtest): void {
    const tz = dataset.time_zone;
    const units = bt.units.kind === 'grid' ? `${int(bt.units.cells)} cells of ${bt.cell_size_m} m` : `${int(bt.units.cells ?? bt.units.areas)} ${bt.units.kind} units`;
    out.append(h('p', { class: 'lead', id: 'backtest-summary' },
      `${bt.categories.map(label).join(', ') || 'all categories'}: ${bt.origins} origins from ${localDate(bt.start, tz)}, every ${bt.step_days} days; `,
      `${bt.train_days} days of training, ${bt.horizon_days}-day horizon; ${units}, study area ${num(bt.study_area_km2, 1)} km² (${bt.study_area_from}); ${int(bt.events)} events read.`));

    const levels = bt.coverage_pct;
    const levelSelect = h('select', { id: 'bt-level', 'aria-label': 'Rank at coverage' },
      levels.map((c, i) => h('option', { value: String(i) }, `${c}%`)));
    const initial = Math.max(0, levels.indexOf(1));
    levelSelect.value = String(initial);
    const tableWrap = h('div', { class: 'table-wrap' });
    const drawTable = (li: number): void => {
      clear(tableWrap);
      const ranked = [...bt.models].sort((a, b) => (b.coverage[li]?.pai ?? -Infinity) - (a.coverage[li]?.pai ?? -Infinity));
      tableWrap.append(h('table', { class: 'data', id: 'leaderboard' },
        h('thead', {}, h('tr', {},
          h('th', {}, '#'), h('th', {}, 'model'),
          levels.map((c) => h('th', { class: 'n' }, `PAI@${c}%`)),
          h('th', { class: 'n' }, `hit rate@${levels[li]}%`), h('th', { class: 'n' }, `PEI*@${levels[li]}%`),
          h('th', { class: 'n' }, 'mean log-lik.'), h('th', { class: 'n' }, 'ms/fit'), h('th', { class: 'n' }, 'origins'), h('th', {}, ''))),
        h('tbody', {}, ranked.map((m, r) => h('tr', { 'data-model': m.name },
          h('td', {}, String(r + 1)), h('td', {}, m.name),
          m.coverage.map((c, i) => h('td', { class: i === li ? 'n hl' : 'n', title: `± ${num(c.pai_se)} (standard error over origins)` },
            `${num(c.pai)} ±${num(c.pai_se)}`)),
          h('td', { class: 'n' }, pct(m.coverage[li]?.hit_rate)),
          h('td', { class: 'n' }, num(m.coverage[li]?.pei_star)),
          h('td', { class: 'n' }, num(m.mean_log_likelihood, 1)),
          h('td', { class: 'n' }, num(m.ms_per_fit, 1)),
          h('td', { class: 'n' }, `${m.origins_ok}/${bt.origins}`),
          h('td', { class: 'nowrap' },
            h('button', {
              type: 'button', class: 'link-button', 'data-forecast': m.name, title: `Map ${m.name}'s current forecast above`,
              onclick: () => forecastMap.show({
                model: m.name, category: bt.categories.join(','),
                ...(HORIZON_CHOICES.includes(String(bt.horizon_days)) ? { horizon: String(bt.horizon_days) } : {}),
                ...(bt.cell_size_m ? { cell_size: String(bt.cell_size_m) } : {}),
              }),
            }, 'forecast'), ' · ',
            h('a', { href: href('map', { model: m.name, category: bt.categories.join(','), layers: 'boundary,forecast' }) }, 'analyst map'))))),
      ));
    };
    levelSelect.addEventListener('change', () => drawTable(Number(levelSelect.value)));
    drawTable(initial);
    out.append(section('Leaderboard', h('label', { class: 'inline-label' }, 'Rank by PAI at coverage ', levelSelect), tableWrap,
      h('p', { class: 'muted small' }, `${bt.ranking}; ${bt.ties}.`)));

    const colour = (i: number) => PALETTE[i % PALETTE.length]!;
    const xTicks = levels.length <= 12 ? levels : undefined;
    out.append(section('PAI over coverage',
      h('div', { id: 'pai-curve' }, lineChart(
        bt.models.map((m, i) => ({ name: m.name, colour: colour(i), points: m.coverage.map((c) => [c.coverage_pct, c.pai ?? 0] as [number, number]) })),
        {
          title: 'Mean PAI by coverage, per model', xLabel: 'area flagged (% of study area)', yLabel: 'PAI', yMin: 0, xTicks,
          errors: Object.fromEntries(bt.models.map((m) => [m.name, m.coverage.map((c) => c.pai_se ?? 0)])),
        })),
      h('p', { class: 'muted small' }, 'Bars: ± one standard error over origins. A PAI of 1 is what flagging cells at random gives.')));
    out.append(section('Hit rate over coverage',
      lineChart(
        bt.models.map((m, i) => ({ name: m.name, colour: colour(i), points: m.coverage.map((c) => [c.coverage_pct, (c.hit_rate ?? 0) * 100] as [number, number]) })),
        { title: 'Share of the week’s events inside the flagged cells', xLabel: 'area flagged (% of study area)', yLabel: 'events captured (%)', yMin: 0, xTicks, legendAt: 'left' })));
  }

  await Promise.all([forecastMap.start(), run()]);
  return () => forecastMap.dispose();
}
