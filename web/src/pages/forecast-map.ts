// The forecasts page's map of the current forecast: a model, horizon, area budget, category
// and cell size chosen in a form; `forecast.geojson` drawn over the stored boundary (the
// flagged cells, or every cell shaded by rank with the flagged ones outlined); a legend
// taken from the answer's `meta`; clicking a cell gives its rank, score and, for models
// whose scores are counts, its expected events.
import type { FeatureCollection, Geometry } from 'geojson';
import * as api from '../api';
import { CATEGORIES, MODELS } from '../categories';
import { h, clear, int, num, label, localDate, errorBox } from '../dom';
import { bounds, createMap, loaded, setData, EMPTY, maplibregl } from '../map/base';

/** Models that take seconds rather than a fraction of one (API.md: run off the async workers). */
export const HORIZON_CHOICES = ['1', '7', '28'];
export const HEAVY_MODELS = new Set(['etas-grid', 'sepp', 'glm', 'ensemble']);
const FLAGGED_FILL = '#7b1fa2';
const FLAGGED_LINE = '#4a148c';
/** Rank classes of the shaded view, darkest first: top 1%, 1–5%, 5–10%, 10–25%, the rest. */
const RANK_CLASSES = [0.01, 0.05, 0.1, 0.25];
const RANK_COLOURS = ['#7f0000', '#d7301f', '#fc8d59', '#fdd49e', '#fff7ec'];

export interface ForecastSettings {
  model: string;
  horizon: string;
  budget: 'coverage' | 'km2';
  coverage: string;
  area_km2: string;
  category: string;
  cell_size: string;
  cells: 'flagged' | 'all';
}

/** The map's settings from the route (`fc_*` parameters), with the page's defaults. */
export function forecastSettings(params: URLSearchParams, defaults: { category: string; cell_size: string }): ForecastSettings {
  const area = params.get('fc_area_km2') ?? '';
  return {
    model: params.get('fc_model') ?? 'retrospective',
    horizon: params.get('fc_horizon') ?? '7',
    budget: area ? 'km2' : 'coverage',
    coverage: params.get('fc_coverage') ?? '2',
    area_km2: area || '5',
    category: params.get('fc_category') ?? defaults.category,
    cell_size: params.get('fc_cell_size') ?? defaults.cell_size,
    cells: params.get('fc_cells') === 'all' ? 'all' : 'flagged',
  };
}

/** The settings as route parameters (see `forecastSettings`). */
export function forecastRouteParams(s: ForecastSettings): Record<string, string> {
  return {
    fc_model: s.model,
    fc_horizon: s.horizon,
    ...(s.budget === 'km2' ? { fc_area_km2: s.area_km2 } : { fc_coverage: s.coverage }),
    fc_category: s.category,
    fc_cell_size: s.cell_size,
    fc_cells: s.cells,
  };
}

/** The request the settings make (web/API.md, forecast.geojson). */
function query(s: ForecastSettings): api.Query {
  return {
    category: s.category,
    cell_size: s.cell_size,
    model: s.model,
    horizon_days: s.horizon,
    ...(s.budget === 'km2' ? { area_budget: s.area_km2, area_unit: 'km2' } : { coverage: s.coverage }),
    cells: s.cells,
  };
}

export interface ForecastMapSection {
  element: HTMLElement;
  /** Creates the map (the element must be in the document) and loads the forecast. */
  start(): Promise<void>;
  /** Changes some settings (e.g. the model, from the leaderboard) and loads again. */
  show(change: Partial<ForecastSettings>): void;
  dispose(): void;
}

export function forecastMapSection(dataset: api.Dataset, settings: ForecastSettings, onChange: () => void): ForecastMapSection {
  const tz = dataset.time_zone;

  // ---- form ----
  const model = h('select', { id: 'fc-model', name: 'model' }, MODELS.map((m) =>
    h('option', { value: m }, HEAVY_MODELS.has(m) ? `${m} (slow)` : m)));
  const horizon = h('select', { id: 'fc-horizon', name: 'horizon_days' },
    HORIZON_CHOICES.map((d) => h('option', { value: d }, d === '1' ? '1 day' : `${d} days`)));
  const budgetKind = h('select', { id: 'fc-budget-kind', name: 'budget', 'aria-label': 'Area budget as' },
    h('option', { value: 'coverage' }, '% of the area'), h('option', { value: 'km2' }, 'km²'));
  const budget = h('input', { id: 'fc-budget', name: 'area_budget', type: 'number', min: 0.01, step: 'any', required: true });
  const category = h('select', { id: 'fc-category', name: 'category' }, h('option', { value: '' }, 'all categories'),
    CATEGORIES.map((c) => h('option', { value: c }, label(c))));
  const cellSize = h('select', { id: 'fc-cell-size', name: 'cell_size' },
    ['150', '250', '500'].map((v) => h('option', { value: v }, `${v} m`)));
  const allCells = h('input', { type: 'checkbox', id: 'fc-all-cells', name: 'cells' });
  const form = h('form', { class: 'filters inline', id: 'forecast-form' },
    h('label', {}, 'Model', model),
    h('label', {}, 'Horizon', horizon),
    h('label', {}, 'Area budget', h('span', { class: 'budget' }, budget, budgetKind)),
    h('label', {}, 'Category', category),
    h('label', {}, 'Cell size', cellSize),
    h('label', { class: 'toggle' }, allCells, 'Shade every cell by rank'),
    h('button', { type: 'submit', id: 'fc-apply' }, 'Update'));

  const status = h('div', { class: 'status muted', id: 'forecast-status', 'aria-live': 'polite' });
  const mapEl = h('div', { class: 'map', id: 'forecast-map' });
  const panel = h('aside', { class: 'explain', id: 'forecast-cell', hidden: true, 'aria-live': 'polite' });
  const legend = h('div', { class: 'legend', id: 'forecast-legend' });
  const element = h('section', { class: 'card', id: 'forecast-map-card' },
    h('h2', {}, 'Current forecast'),
    h('p', { class: 'muted small' }, 'The chosen model fitted on the data up to the last day with events, and the cells it flags for the days after, within the area budget.'),
    form, status,
    h('div', { class: 'forecast-map-layout' },
      h('div', { class: 'forecast-map-wrap' }, mapEl, panel),
      legend));

  function fillForm(): void {
    model.value = settings.model;
    horizon.value = settings.horizon;
    budgetKind.value = settings.budget;
    budget.value = settings.budget === 'km2' ? settings.area_km2 : settings.coverage;
    budget.max = settings.budget === 'km2' ? '' : '100';
    category.value = settings.category;
    cellSize.value = settings.cell_size;
    allCells.checked = settings.cells === 'all';
  }
  function readForm(): void {
    settings.model = model.value;
    settings.horizon = horizon.value;
    settings.budget = budgetKind.value === 'km2' ? 'km2' : 'coverage';
    if (settings.budget === 'km2') settings.area_km2 = budget.value;
    else settings.coverage = budget.value;
    settings.category = category.value;
    settings.cell_size = cellSize.value;
    settings.cells = allCells.checked ? 'all' : 'flagged';
  }
  fillForm();

  // ---- state ----
  let map: maplibregl.Map | null = null;
  let disposed = false;
  let ticket = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let requested = '';
  let fitted = false;
  /** The shown answer, its request, and its rows by unit (for the click panel). */
  let shown: { fc: api.Layer<api.ForecastProps, api.ForecastMeta>; asked: ForecastSettings } | null = null;
  const byUnit = new Map<string, api.ForecastProps>();

  function setStatus(text: string | Node): void {
    clear(status);
    status.append(text);
  }

  async function load(): Promise<void> {
    if (!map || disposed) return;
    const q = query(settings);
    const key = JSON.stringify(q);
    if (key === requested) return;
    requested = key;
    const mine = ++ticket;
    const asked = { ...settings };
    const started = Date.now();
    const slow = HEAVY_MODELS.has(asked.model) ? ' Heavy models can take a minute, more with every category.' : '';
    const tick = (): void => setStatus(`Fitting the ${asked.model} model… ${Math.round((Date.now() - started) / 1000)} s.${slow}`);
    tick();
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    form.setAttribute('aria-busy', 'true');
    let fc: api.Layer<api.ForecastProps, api.ForecastMeta>;
    try {
      fc = await api.forecast(dataset.name, q);
    } catch (e) {
      if (mine !== ticket || disposed) return;
      clearInterval(timer);
      form.removeAttribute('aria-busy');
      requested = '';
      const box = errorBox(e);
      if (shown) box.append(h('span', { class: 'muted' }, ' The map still shows the forecast in the legend.'));
      setStatus(box);
      return;
    }
    if (mine !== ticket || disposed) return;
    clearInterval(timer);
    form.removeAttribute('aria-busy');
    setStatus('');
    draw(fc, asked);
  }

  function draw(fc: api.Layer<api.ForecastProps, api.ForecastMeta>, asked: ForecastSettings): void {
    if (!map) return;
    shown = { fc, asked };
    byUnit.clear();
    for (const f of fc.features) byUnit.set(f.properties.unit, f.properties);
    const all = fc.features.some((f) => !f.properties.flagged);
    const n = fc.meta.units.cells ?? fc.features.length;
    if (all) {
      // ranks up to ceil(share × cells) take a class's colour; stops must rise strictly
      // (when two classes end at the same rank, the first is empty: the later one's stop wins)
      const stops = RANK_CLASSES.map((p) => Math.ceil(p * n) + 1);
      const expr: unknown[] = ['step', ['get', 'rank'], RANK_COLOURS[0]];
      stops.forEach((stop, i) => {
        if (i + 1 < stops.length && stops[i + 1] === stop) return;
        expr.push(stop, RANK_COLOURS[i + 1]);
      });
      map.setPaintProperty('forecast-fill', 'fill-color', expr as maplibregl.ExpressionSpecification);
      // a score of 0 is left clear: its rank among the other zeros is only the tie-break
      map.setPaintProperty('forecast-fill', 'fill-opacity', ['case', ['>', ['get', 'score'], 0], 0.7, 0]);
    } else {
      map.setPaintProperty('forecast-fill', 'fill-color', FLAGGED_FILL);
      map.setPaintProperty('forecast-fill', 'fill-opacity', 0.35);
    }
    setData(map, 'forecast', fc);
    if (!fitted) {
      const b = bounds(fc);
      if (b) {
        map.fitBounds(b, { padding: 20, animate: false });
        fitted = true;
      }
    }
    renderLegend(fc.meta, asked, all);
    const open = panel.hidden ? null : panel.getAttribute('data-unit');
    if (open) showCell(open);
  }

  function renderLegend(m: api.ForecastMeta, asked: ForecastSettings, all: boolean): void {
    clear(legend);
    const cats = m.categories.length ? m.categories.map(label).join(', ') : 'all categories';
    const days = m.horizon_days === 1 ? '1 day' : `${m.horizon_days} days`;
    // The answer says what was flagged; an area budget it does not repeat (its `coverage_pct`
    // is then only the default), so that one is quoted from the request.
    const budgetText = asked.budget === 'km2'
      ? `area budget asked: ${asked.area_km2} km²`
      : `the top ${m.coverage_pct ?? asked.coverage}% of the area`;
    const size = m.units.cell_size ? `${m.units.cell_size} m cells` : `${m.units.kind} units`;
    legend.append(
      h('div', { class: 'legend-item', id: 'forecast-legend-what' },
        h('strong', {}, `${m.model} model`),
        h('span', {}, `${cats}, the ${days} from ${localDate(m.origin, tz)}`)),
      h('div', { class: 'legend-item', id: 'forecast-legend-flagged' },
        h('span', { class: 'swatches' }, h('i', { class: 'outline', style: `background:${all ? 'transparent' : FLAGGED_FILL};border:2px solid ${FLAGGED_LINE}` }), ' flagged'),
        h('span', {}, `${int(m.flagged_cells)} ${m.flagged_cells === 1 ? 'cell' : 'cells'}, ${num(m.flagged_area_km2)} km² (${budgetText})`)),
      h('div', { class: 'legend-item', hidden: !all },
        h('span', { class: 'swatches' }, RANK_COLOURS.map((c) => h('i', { style: `background:${c}` }))),
        h('small', {}, 'every cell by rank: top 1%, 1–5%, 5–10%, 10–25%, the rest; a score of 0 is left clear')),
      h('small', { class: 'muted' },
        `${size} (${int(m.units.cells)} in the study area); fitted on ${int(m.train_events)} events of the ${m.train_days} days before. `,
        m.expected_counts ? `Scores are expected events in the ${days}.` : 'Scores rank the cells; they are not expected counts.'),
    );
  }

  function showCell(unit: string): void {
    if (!map || !shown) return;
    const p = byUnit.get(unit);
    const m = shown.fc.meta;
    clear(panel);
    if (!p) {
      panel.hidden = true;
      setData(map, 'selected', EMPTY);
      return;
    }
    panel.hidden = false;
    panel.setAttribute('data-unit', unit);
    const f = shown.fc.features.find((x) => x.properties.unit === unit);
    setData(map, 'selected', f ? { type: 'FeatureCollection', features: [f] } as FeatureCollection<Geometry> : EMPTY);
    const days = m.horizon_days === 1 ? '1 day' : `${m.horizon_days} days`;
    const n = m.units.cells ?? shown.fc.features.length;
    const lines = [
      `Ranked ${int(p.rank)} of ${int(n)} by the ${m.model} model for the ${days} from ${localDate(m.origin, tz)}; ${p.flagged ? 'flagged' : 'not flagged'}.`,
      m.expected_counts
        ? `It expects ${num(p.score, 3)} events here in that time (${m.categories.length ? m.categories.map(label).join(', ') : 'all categories'}).`
        : 'This model’s scores rank cells; they are not expected counts.',
    ];
    panel.append(
      h('header', {}, h('h2', {}, `Cell ${unit}`),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: closePanel }, '×')),
      h('div', { class: 'why' }, lines.map((l) => h('p', {}, l))),
      h('dl', {},
        dt('Rank', `${int(p.rank)} of ${int(n)}`),
        dt('Score', num(p.score, 4)),
        m.expected_counts ? dt(`Expected events (${days})`, num(p.score, 3)) : null,
        dt('Flagged', p.flagged ? 'yes' : 'no'),
        p.area_km2 !== undefined ? dt('Area', `${num(p.area_km2, 3)} km²`) : null),
    );
  }

  function closePanel(): void {
    panel.hidden = true;
    panel.removeAttribute('data-unit');
    if (map) setData(map, 'selected', EMPTY);
  }

  const submit = (): void => {
    if (!form.reportValidity()) return;
    readForm();
    onChange();
    void load();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
  });
  for (const el of [model, horizon, category, cellSize, allCells, budget]) el.addEventListener('change', submit);
  budgetKind.addEventListener('change', () => {
    // a new unit: start from that unit's default rather than the other unit's number
    budget.value = budgetKind.value === 'km2' ? settings.area_km2 : settings.coverage;
    budget.max = budgetKind.value === 'km2' ? '' : '100';
    submit();
  });

  async function start(): Promise<void> {
    const m = createMap(mapEl, 'forecast', { zoom: 10 });
    map = m;
    m.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    m.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    await loaded(m);
    if (disposed) return;
    for (const id of ['boundary', 'forecast', 'selected']) m.addSource(id, { type: 'geojson', data: EMPTY });
    m.addLayer({ id: 'boundary-fill', type: 'fill', source: 'boundary', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.7 } });
    m.addLayer({ id: 'forecast-fill', type: 'fill', source: 'forecast', paint: { 'fill-color': FLAGGED_FILL, 'fill-opacity': 0.35 } });
    m.addLayer({ id: 'boundary-line', type: 'line', source: 'boundary', paint: { 'line-color': '#6b7785', 'line-width': 0.8 } });
    m.addLayer({
      id: 'forecast-line', type: 'line', source: 'forecast', filter: ['==', ['get', 'flagged'], true],
      paint: { 'line-color': FLAGGED_LINE, 'line-width': 1.6 },
    });
    m.addLayer({ id: 'selected-line', type: 'line', source: 'selected', paint: { 'line-color': '#000000', 'line-width': 3 } });
    m.on('click', (e) => {
      const hit = m.queryRenderedFeatures(e.point, { layers: ['forecast-fill'] })
        .find((f) => typeof f.properties?.['unit'] === 'string');
      if (hit) showCell(hit.properties['unit'] as string);
      else closePanel();
    });
    m.on('mouseenter', 'forecast-fill', () => (m.getCanvas().style.cursor = 'pointer'));
    m.on('mouseleave', 'forecast-fill', () => (m.getCanvas().style.cursor = ''));

    const boundary = api.boundary(dataset.name).then((b) => {
      if (disposed) return;
      setData(m, 'boundary', b);
      const bb = bounds(b);
      if (bb) {
        m.fitBounds(bb, { padding: 20, animate: false });
        fitted = true;
      }
    }).catch(() => {}); // no boundary: the forecast's cells frame the view instead
    await Promise.all([boundary, load()]);
  }

  return {
    element,
    start,
    show(change) {
      Object.assign(settings, change);
      fillForm();
      onChange();
      element.scrollIntoView({ block: 'start' });
      void load();
    },
    dispose() {
      disposed = true;
      clearInterval(timer);
      map?.remove();
    },
  };
}

function dt(term: string, value: string): HTMLElement {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}
