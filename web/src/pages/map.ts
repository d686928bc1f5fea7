// The analyst map: events, counts per grid cell or H3 hexagon, kernel density, Gi* hot
// spots, emerging hot spots and forecast top cells over the jurisdiction's own boundaries,
// with filters (category, period, area, units), a month slider and a click-for-explanation
// side panel.
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import * as api from '../api';
import { CATEGORIES, MODELS, categoryColour } from '../categories';
import { h, clear, int, num, pValue, pEq, label, localDate, lastDay, localDateTime, addDays } from '../dom';
import { areaName, areaPicker } from './common';
import { createMap, loaded, setData, bounds, EMPTY, maplibregl } from '../map/base';
import { ContextLayers } from '../map/context';
import { replaceParams, type Cleanup } from '../router';
import { currentDataset, lastEventDay } from '../state';

type LayerId = 'boundary' | 'counts' | 'kde' | 'hotspots' | 'emerging' | 'forecast' | 'events';

interface LayerDef {
  id: LayerId;
  title: string;
  styleLayers: string[];
  on: boolean;
}

const LAYERS: LayerDef[] = [
  { id: 'boundary', title: 'Boundaries', styleLayers: ['boundary-fill', 'boundary-line'], on: true },
  { id: 'counts', title: 'Counts per cell or hexagon', styleLayers: ['counts-fill'], on: true },
  { id: 'kde', title: 'Kernel density (KDE)', styleLayers: ['kde-fill'], on: false },
  { id: 'hotspots', title: 'Gi* hot spots', styleLayers: ['hotspots-fill', 'hotspots-line'], on: false },
  { id: 'emerging', title: 'Emerging hot spots', styleLayers: ['emerging-fill', 'emerging-line'], on: false },
  { id: 'forecast', title: 'Forecast top cells', styleLayers: ['forecast-fill', 'forecast-line'], on: true },
  { id: 'events', title: 'Events', styleLayers: ['events-heat', 'events-cluster', 'events-circle'], on: false },
];

const CELL_LAYERS = ['forecast-fill', 'emerging-fill', 'hotspots-fill', 'counts-fill', 'kde-fill'];
const COUNT_COLOURS = ['#ffffcc', '#fed976', '#fd8d3c', '#e31a1c', '#800026'];
/** Kernel density: a blue-green ramp, apart from the counts' yellow-to-red. */
const KDE_COLOURS = ['#f0f9e8', '#bae4bc', '#7bccc4', '#43a2ca', '#0868ac'];
/** The grid KDE uses when the units are hexagons (the CLI's kernel density needs cells). */
const KDE_CELL_WHEN_HEX = '250';
/** Emerging hot-spot patterns (the CLI's slugs): hot in reds and oranges, cold in blues. */
const PATTERN_COLOURS: Record<string, string> = {
  new_hot_spot: '#fd8d3c',
  consecutive_hot_spot: '#f16913',
  intensifying_hot_spot: '#a50f15',
  persistent_hot_spot: '#cb181d',
  diminishing_hot_spot: '#fc9272',
  sporadic_hot_spot: '#fdd0a2',
  oscillating_hot_spot: '#d94801',
  historical_hot_spot: '#fcbba1',
  new_cold_spot: '#9ecae1',
  consecutive_cold_spot: '#6baed6',
  intensifying_cold_spot: '#08519c',
  persistent_cold_spot: '#2171b5',
  diminishing_cold_spot: '#c6dbef',
  sporadic_cold_spot: '#deebf7',
  oscillating_cold_spot: '#4292c6',
  historical_cold_spot: '#d0d1e6',
};
/** The CLI's emerging analysis needs this many whole time steps (sl-analytics MIN_STEPS). */
const EMERGING_MIN_STEPS = 10;
/** Unit choices: grid cell sizes in metres, or H3 resolutions. */
const UNIT_CHOICES: [string, string][] = [
  ['150', '150 m cells'], ['250', '250 m cells'], ['500', '500 m cells'],
  ['hex9', 'H3 res 9 (~0.1 km²)'], ['hex8', 'H3 res 8 (~0.7 km²)'],
];
/** How many months the slider shows at most (St. Louis has a few events from 1975). */
const SLIDER_MAX_MONTHS = 60;

interface Filters {
  category: string;
  from: string;
  to: string;
  /** Grid cell size in metres, or '' when the units are hexagons. */
  cell_size: string;
  /** H3 resolution, or '' when the units are grid cells. */
  hex: string;
  /** `LEVEL=CODE` (district=12), or '' for the whole jurisdiction. */
  area: string;
  model: string;
}

export async function mapPage(root: HTMLElement, params: URLSearchParams): Promise<Cleanup> {
  const dataset = currentDataset()!;
  const name = dataset.name;
  const tz = dataset.time_zone;
  const last = lastEventDay(dataset);
  const defaultTo = last ? addDays(last, 1) : '';
  const filters: Filters = {
    category: params.get('category') ?? '',
    from: params.get('from') ?? (defaultTo ? addDays(defaultTo, -90) : ''),
    to: params.get('to') ?? defaultTo,
    cell_size: params.get('hex') ? '' : params.get('cell_size') ?? '250',
    hex: params.get('hex') ?? '',
    area: params.get('area') ?? '',
    model: params.get('model') ?? 'retrospective',
  };
  const visible = new Map<LayerId, boolean>(LAYERS.map((l) => [l.id, l.on]));
  const requested = (params.get('layers') ?? '').split(',').filter((id) => visible.has(id as LayerId));
  if (requested.length > 0) for (const l of LAYERS) visible.set(l.id, requested.includes(l.id));

  // ---- controls ----
  const category = h('select', { id: 'f-category', name: 'category' }, h('option', { value: '' }, 'all categories'),
    CATEGORIES.map((c) => h('option', { value: c }, label(c))));
  category.value = filters.category;
  const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: filters.from });
  const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: filters.to });
  const cellSize = h('select', { id: 'f-cell-size', name: 'units' },
    UNIT_CHOICES.map(([v, text]) => h('option', { value: v }, text)));
  cellSize.value = filters.hex ? `hex${filters.hex}` : filters.cell_size;
  const areaPick = areaPicker(dataset, filters.area, 'f');
  const slider = monthSlider(dataset, (range) => {
    from.value = range.from;
    to.value = range.to;
    filters.from = range.from;
    filters.to = range.to;
    syncUrl();
    void reloadVisible();
  });
  slider.follow(filters.from, filters.to);
  const model = h('select', { id: 'f-model', name: 'model' }, MODELS.map((m) => h('option', { value: m }, m)));
  model.value = filters.model;
  const apply = h('button', { type: 'submit', id: 'f-apply' }, 'Apply');
  const form = h('form', { class: 'filters', id: 'map-filters' },
    h('label', {}, 'Category', category),
    h('div', { class: 'row' }, h('label', {}, 'From', from), h('label', {}, 'To (excluded)', to)),
    slider.element,
    areaPick.element,
    h('div', { class: 'row' }, h('label', {}, 'Units', cellSize), h('label', {}, 'Forecast model', model)),
    apply);

  const toggles = h('fieldset', { class: 'layers', id: 'layer-toggles' }, h('legend', {}, 'Layers'));
  const contextToggles = h('fieldset', { class: 'layers', id: 'context-layers' }, h('legend', {}, 'Context layers'));
  const legend = h('div', { class: 'legend', id: 'legend' });
  const status = h('p', { class: 'status muted', id: 'map-status', 'aria-live': 'polite' });
  const controls = h('aside', { class: 'controls' }, form, toggles, contextToggles, legend, status,
    h('p', { class: 'provenance muted' }, dataset.provenance));
  const mapEl = h('div', { class: 'map', id: 'map' });
  const explain = h('aside', { class: 'explain', id: 'explanation', hidden: true, 'aria-live': 'polite' });
  root.append(h('div', { class: 'map-layout' }, controls, h('div', { class: 'map-wrap' }, mapEl, explain)));

  const map = createMap(mapEl, 'analyst');
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');

  // ---- data held per layer ----
  const index: Record<'counts' | 'kde' | 'hotspots' | 'emerging' | 'forecast', Map<string, Record<string, unknown>>> = {
    counts: new Map(), kde: new Map(), hotspots: new Map(), emerging: new Map(), forecast: new Map(),
  };
  /** Why the emerging layer was not asked for (a period too short), or ''. */
  let emergingNote = '';
  const meta: Partial<Record<LayerId, unknown>> = {};
  const loadedKey = new Map<LayerId, string>();
  let selectedUnit: string | null = null;
  /** Where the place in the explanation was clicked (for its nearby context). */
  let lastPoint: maplibregl.LngLat | null = null;
  let disposed = false;

  const selection = (): api.Query => ({
    category: filters.category, from: filters.from, to: filters.to, area: filters.area,
  });
  /** The units' query: `hex=N` for H3 hexagons, else `cell_size=M`. */
  const units = (): api.Query => (filters.hex ? { hex: filters.hex } : { cell_size: filters.cell_size });
  /** Kernel density needs grid cells: the chosen size, or 250 m when the units are hexagons. */
  const kdeUnits = (): api.Query => ({ cell_size: filters.hex ? KDE_CELL_WHEN_HEX : filters.cell_size });
  const keyOf = (id: LayerId): string => {
    switch (id) {
      case 'boundary': return name;
      case 'events': return JSON.stringify([name, selection()]);
      case 'counts':
      case 'hotspots':
      case 'emerging': return JSON.stringify([id, name, selection(), units()]);
      case 'kde': return JSON.stringify([name, selection(), kdeUnits()]);
      case 'forecast': return JSON.stringify([name, filters.category, filters.area, units(), filters.model]);
    }
  };

  await loaded(map);
  if (disposed) return () => {};
  addSourcesAndLayers(map);
  for (const l of LAYERS) applyVisibility(l);
  renderToggles();
  const context = new ContextLayers(map, name, tz, { selection, status: setStatus, changed: renderLegend });
  void context.init(contextToggles);

  function applyVisibility(l: LayerDef): void {
    const v = visible.get(l.id) ? 'visible' : 'none';
    for (const s of l.styleLayers) map.setLayoutProperty(s, 'visibility', v);
  }

  function renderToggles(): void {
    clear(toggles);
    toggles.append(h('legend', {}, 'Layers'));
    for (const l of LAYERS) {
      const box = h('input', { type: 'checkbox', id: `layer-${l.id}`, 'data-layer': l.id });
      box.checked = visible.get(l.id) ?? false;
      box.addEventListener('change', () => {
        visible.set(l.id, box.checked);
        applyVisibility(l);
        syncUrl();
        if (box.checked) void ensure(l.id);
        renderLegend();
      });
      toggles.append(h('label', { class: 'toggle' }, box, l.title));
    }
  }

  function syncUrl(): void {
    replaceParams({
      ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '')),
      layers: LAYERS.filter((l) => visible.get(l.id)).map((l) => l.id).join(','),
    });
  }

  const pending = new Map<LayerId, { key: string; p: Promise<void> }>();
  async function ensure(id: LayerId): Promise<void> {
    const key = keyOf(id);
    if (loadedKey.get(id) === key) return;
    const running = pending.get(id);
    if (running) {
      if (running.key === key) return running.p;
      // A load for an earlier selection (the slider moved on): let it finish, then load this one.
      await running.p;
      return ensure(id);
    }
    const p = load(id, key).finally(() => pending.delete(id));
    pending.set(id, { key, p });
    return p;
  }

  /** Whether the view has been fitted to the data (the boundary, or else the counts). */
  let fitted = false;

  async function load(id: LayerId, key: string): Promise<void> {
    setStatus(`Loading ${LAYERS.find((l) => l.id === id)!.title.toLowerCase()}…`);
    const cell = units();
    try {
      switch (id) {
        case 'boundary': {
          const fc = await api.boundary(name);
          if (disposed) return;
          setData(map, 'boundary', fc);
          const b = bounds(fc);
          if (b) {
            map.fitBounds(b, { padding: 20, animate: false });
            fitted = true;
          }
          break;
        }
        case 'counts': {
          const fc = await api.aggregate(name, { ...selection(), ...cell, nonzero: true });
          if (disposed) return;
          meta.counts = fc.meta;
          fillIndex('counts', fc);
          map.setPaintProperty('counts-fill', 'fill-color', countColour(fc.features.map((f) => f.properties.count)));
          setData(map, 'counts', fc);
          // A dataset without a stored boundary: frame the cells that hold events instead.
          const b = fitted ? null : bounds(fc);
          if (b) {
            map.fitBounds(b, { padding: 20, animate: false });
            fitted = true;
          }
          break;
        }
        case 'hotspots': {
          const fc = await api.hotspots(name, { ...selection(), ...cell, method: 'gistar' });
          if (disposed) return;
          meta.hotspots = fc.meta;
          fillIndex('hotspots', fc);
          setData(map, 'hotspots', fc);
          break;
        }
        case 'kde': {
          const fc = await api.kde(name, { ...selection(), ...kdeUnits(), method: 'kde' });
          if (disposed) return;
          meta.kde = fc.meta;
          fillIndex('kde', fc);
          map.setPaintProperty('kde-fill', 'fill-color',
            rampColour(fc.features.map((f) => f.properties.density), 'density', KDE_COLOURS, true));
          setData(map, 'kde', fc);
          break;
        }
        case 'emerging': {
          // Only asked for when the period holds enough whole steps: the server refuses
          // shorter ones with a 400, which the browser would log as a console error.
          const step = emergingStep(filters.from, filters.to);
          if (!step) {
            const weeks = wholeWeeks(filters.from, filters.to);
            emergingNote = `Emerging hot spots need at least ${EMERGING_MIN_STEPS} whole weeks or months; `
              + `${filters.from && filters.to ? `this period has ${weeks} whole ${weeks === 1 ? 'week' : 'weeks'}` : 'choose a period'}. Widen it (the slider's window of 12 months does).`;
            meta.emerging = undefined;
            index.emerging.clear();
            setData(map, 'emerging', EMPTY);
            loadedKey.set(id, key);
            setStatus(emergingNote, true);
            renderLegend();
            return;
          }
          emergingNote = '';
          const fc = await api.emerging(name, { ...selection(), ...cell, method: 'emerging', step });
          if (disposed) return;
          meta.emerging = fc.meta;
          fillIndex('emerging', fc);
          setData(map, 'emerging', fc);
          break;
        }
        case 'forecast': {
          const fc = await api.forecast(name, {
            category: filters.category, area: filters.area, ...cell, model: filters.model, horizon_days: 7, coverage: 2,
            cells: 'flagged',
          });
          if (disposed) return;
          meta.forecast = fc.meta;
          fillIndex('forecast', fc);
          setData(map, 'forecast', fc);
          break;
        }
        case 'events': {
          const fc = await api.events(name, { ...selection(), limit: 20000 });
          if (disposed) return;
          meta.events = fc.meta;
          setData(map, 'events', fc);
          setData(map, 'events-clustered', fc);
          break;
        }
      }
      loadedKey.set(id, key);
      setStatus('');
      renderLegend();
      if (selectedUnit) showCell(selectedUnit);
    } catch (e) {
      if (disposed) return;
      setStatus(`${LAYERS.find((l) => l.id === id)!.title}: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }

  function fillIndex(which: keyof typeof index, fc: FeatureCollection<Geometry, { unit: string }>): void {
    const m = index[which];
    m.clear();
    for (const f of fc.features) m.set(f.properties.unit, f.properties as unknown as Record<string, unknown>);
    cellGeometry(fc);
  }

  const geometries = new Map<string, Geometry>();
  function cellGeometry(fc: FeatureCollection<Geometry, { unit: string }>): void {
    for (const f of fc.features) if (!geometries.has(f.properties.unit)) geometries.set(f.properties.unit, f.geometry);
  }

  function setStatus(text: string, isError = false): void {
    status.textContent = text;
    status.classList.toggle('error', isError);
  }

  async function reloadVisible(): Promise<void> {
    geometries.clear();
    await Promise.all([...LAYERS.filter((l) => visible.get(l.id)).map((l) => ensure(l.id)), context.reload()]);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters.category = category.value;
    filters.from = from.value;
    filters.to = to.value;
    const hex = /^hex(\d+)$/.exec(cellSize.value);
    filters.hex = hex ? hex[1]! : '';
    filters.cell_size = hex ? '' : cellSize.value;
    filters.area = areaPick.value();
    filters.model = model.value;
    slider.follow(filters.from, filters.to);
    syncUrl();
    void reloadVisible();
  });

  // ---- legend ----
  function renderLegend(): void {
    clear(legend);
    const period = (m: unknown): string => {
      const s = m as api.SelectionMeta | undefined;
      return s ? `${localDate(s.from, tz)} – ${lastDay(s.to, tz)}` : '';
    };
    const cats = (m: { categories?: string[] } | undefined): string =>
      m?.categories?.length ? m.categories.map(label).join(', ') : 'all categories';
    const where = areaName(filters.area);
    const inArea = where ? `; ${where} only` : '';
    if (visible.get('counts') && meta.counts) {
      const m = meta.counts as api.SelectionMeta;
      const hex = m.units?.kind === 'h3';
      legend.append(h('div', { class: 'legend-item', id: 'legend-counts' },
        h('strong', {}, hex ? 'Hexagon counts' : 'Grid counts'),
        h('span', { class: 'swatches' }, COUNT_COLOURS.map((c) => h('i', { style: `background:${c}` }))),
        h('small', {}, `${int(m.events)} events, ${cats(m)}, ${period(m)}; ${unitsText(m.units)}${inArea}`)));
    }
    if (visible.get('kde') && meta.kde) {
      const m = meta.kde as api.KdeMeta;
      legend.append(h('div', { class: 'legend-item', id: 'legend-kde' },
        h('strong', {}, 'Kernel density'),
        h('span', { class: 'swatches' }, KDE_COLOURS.map((c) => h('i', { style: `background:${c}` }))),
        h('small', {}, `${m.parameters.density_unit ?? 'events per km²'}, ${m.parameters.kernel ?? ''} kernel, bandwidth ${int(m.parameters.bandwidth_m)} m${m.parameters.bandwidth_rule ? ` (${m.parameters.bandwidth_rule})` : ''}; ${int(m.events)} events, ${cats(m)}, ${period(m)}; ${unitsText(m.units)}${filters.hex ? ' (kernel density needs grid cells)' : ''}${inArea}`)));
    }
    if (visible.get('hotspots') && meta.hotspots) {
      const m = meta.hotspots as api.HotspotsMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Gi* hot spots'),
        h('span', { class: 'swatches' }, h('i', { style: 'background:#d7301f' }), ' hot ', h('i', { style: 'background:#2b8cbe' }), ' cold'),
        h('small', {}, `${int(m.parameters.hot_spots)} hot, ${int(m.parameters.cold_spots)} cold at FDR α = ${m.parameters.alpha ?? '–'}, ${m.parameters.permutations ?? 0} permutations; ${period(m)}; ${unitsText(m.units)}${inArea}`)));
    }
    if (visible.get('emerging') && (meta.emerging || emergingNote)) {
      const m = meta.emerging as api.EmergingMeta | undefined;
      const item = h('div', { class: 'legend-item', id: 'legend-emerging' }, h('strong', {}, 'Emerging hot spots'));
      if (!m) item.append(h('small', {}, emergingNote));
      else {
        const tallies = Object.entries(m.parameters.patterns ?? {}).filter(([, n]) => n > 0);
        const shown = tallies.filter(([p]) => p !== 'no_pattern')
          .sort(([a], [b]) => Object.keys(PATTERN_COLOURS).indexOf(a) - Object.keys(PATTERN_COLOURS).indexOf(b));
        const none = tallies.find(([p]) => p === 'no_pattern')?.[1] ?? 0;
        item.append(
          h('ul', { class: 'patterns' }, shown.map(([p, n]) =>
            h('li', { 'data-pattern': p }, h('i', { style: `background:${PATTERN_COLOURS[p] ?? '#999999'}` }), ` ${patternLabel(p)}: ${int(n)}`))),
          h('small', {}, `${shown.length === 0 ? 'No pattern in any unit. ' : ''}${int(none)} ${unitNoun(m.units, none)} with no pattern (not drawn); ${int(m.parameters.steps)} ${m.parameters.step}s, ${cats(m)}, ${period(m)}; ${unitsText(m.units)}${inArea}`));
      }
      legend.append(item);
    }
    if (visible.get('forecast') && meta.forecast) {
      const m = meta.forecast as api.ForecastMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Forecast top cells'),
        h('span', { class: 'swatches' }, h('i', { style: 'background:#7b1fa2' })),
        h('small', {}, `${m.model}, ${cats(m)}: ${int(m.flagged_cells)} ${unitNoun(m.units, m.flagged_cells)} (${num(m.flagged_area_km2)} km²) for ${m.horizon_days} days from ${localDate(m.origin, tz)}${inArea}`)));
    }
    if (visible.get('events') && meta.events) {
      const m = meta.events as api.EventsMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Events'),
        h('small', {}, `${int(m.returned)} of ${int(m.matched)} located events${m.truncated ? ' (limit reached: narrow the filters)' : ''}, ${cats(m)}; ${int(m.without_point)} without a point are not drawn`)));
    }
    legend.append(...context.legendItems());
  }

  // ---- explanation ----
  function showCell(unit: string): void {
    selectedUnit = unit;
    const g = geometries.get(unit);
    setData(map, 'selected', g ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: g, properties: {} }] } : EMPTY);
    clear(explain);
    explain.hidden = false;
    const cnt = index.counts.get(unit) as api.CountProps | undefined;
    const gi = index.hotspots.get(unit) as api.GistarProps | undefined;
    const fc = index.forecast.get(unit) as api.ForecastProps | undefined;
    const em = index.emerging.get(unit) as api.EmergingProps | undefined;
    const kde = kdeAt(unit);
    const hex = !/^r\d+c\d+$/.test(unit);
    const noun = hex ? 'hexagon' : 'cell';
    const items: HTMLElement[] = [];
    const lines: string[] = [];

    if (loadedKey.has('counts')) {
      const m = meta.counts as api.SelectionMeta;
      const n = cnt?.count ?? 0;
      lines.push(`${int(n)} ${n === 1 ? 'event' : 'events'} here from ${localDate(m.from, tz)} to ${lastDay(m.to, tz)}.`);
      items.push(dt('Events in period', int(n)));
    }
    if (gi) {
      const alpha = (meta.hotspots as api.HotspotsMeta).parameters.alpha ?? 0.05;
      if (gi.spot === 'hot') lines.push(`A hot spot: this ${noun} and its neighbours hold more events than the city-wide rate would give (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)} < ${alpha}).`);
      else if (gi.spot === 'cold') lines.push(`A cold spot: this ${noun} and its neighbours hold fewer events than the city-wide rate would give (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)} < ${alpha}).`);
      else lines.push(`Not a significant hot or cold spot (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)}).`);
      items.push(dt('Gi* z', num(gi.z)), dt('p (FDR-adjusted)', pValue(gi.p_spot_fdr)), dt('Spot', gi.spot || 'none'));
    } else if (!loadedKey.has('hotspots')) {
      items.push(dt('Gi*', `turn on “Gi* hot spots” to see this ${noun}’s statistics`));
    }
    if (kde && meta.kde) {
      const m = meta.kde as api.KdeMeta;
      lines.push(`Kernel density: ${num(kde.density, 2)} ${m.parameters.density_unit ?? 'events per km²'} (bandwidth ${int(m.parameters.bandwidth_m)} m, ${unitsText(m.units)}).`);
      items.push(dt('Density', `${num(kde.density, 2)} ${m.parameters.density_unit ?? 'per km²'}`));
    }
    if (loadedKey.has('emerging') && meta.emerging) {
      const m = meta.emerging as api.EmergingMeta;
      if (em && em.pattern !== 'no_pattern') {
        lines.push(`Emerging hot spots (by ${m.parameters.step}): ${em.label || patternLabel(em.pattern)}: a hot spot in ${int(em.hot_steps)} and a cold spot in ${int(em.cold_steps)} of ${int(m.parameters.steps)} ${m.parameters.step}s (trend z = ${num(em.trend_z)}, ${pEq(em.trend_p)}).`);
        items.push(dt('Emerging pattern', em.label || patternLabel(em.pattern)));
      } else {
        lines.push(`Emerging hot spots (by ${m.parameters.step}): no pattern detected here.`);
        items.push(dt('Emerging pattern', 'none'));
      }
    }
    if (loadedKey.has('forecast')) {
      const m = meta.forecast as api.ForecastMeta;
      if (fc) {
        const cats = m.categories.length ? m.categories.map(label).join(', ') : 'all categories';
        const what = m.expected_counts ? `${num(fc.score, 3)} expected events (${cats})` : `score ${num(fc.score, 3)} (${cats})`;
        lines.push(`Forecast: ranked ${fc.rank} by the ${m.model} model, ${what} in the ${m.horizon_days} days from ${localDate(m.origin, tz)}; flagged (the top ${m.coverage_pct ?? ''}% of the whole grid's area${filters.area ? "; fitted on the chosen area's events only" : ''}).`);
        items.push(dt('Forecast rank', `${fc.rank} of ${int(m.units.cells)}`), dt(m.expected_counts ? 'Expected events' : 'Score', num(fc.score, 3)));
      } else {
        lines.push(`Forecast: not among the ${int(m.flagged_cells)} ${unitNoun(m.units, m.flagged_cells)} the ${m.model} model flags.`);
        items.push(dt('Forecast', 'not flagged'));
      }
    }
    explain.append(
      h('header', {}, h('h2', {}, `${hex ? 'Hexagon' : 'Cell'} ${unit}`),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: closeExplain }, '×')),
      h('div', { class: 'why' }, lines.map((l) => h('p', {}, l))),
      h('dl', {}, items),
      h('p', { class: 'muted small' }, hex
        ? `H3 hexagon ${unit} (resolution ${hexResolutionOf() ?? '–'}). Times in ${tz ?? 'the dataset’s zone'}.`
        : `${cellSizeOf() ?? '–'} m grid cell; row 0 is the southernmost row, col 0 the westernmost. Times in ${tz ?? 'the dataset’s zone'}.`),
    );
    appendNearby();
  }

  /** Appends the context layers near the clicked point to the explanation, if still shown. */
  let nearbyTicket = 0;
  function appendNearby(): void {
    const at = lastPoint;
    if (!at || !context.hasLayers()) return;
    const ticket = ++nearbyTicket;
    void context.nearbySection(at).then((section) => {
      if (section && ticket === nearbyTicket && !explain.hidden && !disposed) explain.append(section);
    });
  }

  function showPlace(title: string, body: HTMLElement[]): void {
    selectedUnit = null;
    setData(map, 'selected', EMPTY);
    clear(explain);
    explain.hidden = false;
    explain.append(
      h('header', {}, h('h2', {}, title),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: closeExplain }, '×')),
      ...body);
    appendNearby();
  }

  /** The cell size the loaded layers say they use (their `meta.units`), not the form's. */
  function cellSizeOf(): number | undefined {
    for (const id of ['counts', 'hotspots', 'emerging', 'forecast', 'kde'] as const) {
      const size = (meta[id] as { units?: { cell_size?: number } } | undefined)?.units?.cell_size;
      if (size !== undefined) return size;
    }
    return undefined;
  }
  /** The H3 resolution the loaded layers say they use. */
  function hexResolutionOf(): number | undefined {
    for (const id of ['counts', 'hotspots', 'emerging', 'forecast'] as const) {
      const r = (meta[id] as { units?: { resolution?: number } } | undefined)?.units?.resolution;
      if (r !== undefined) return r;
    }
    return undefined;
  }
  /** The kernel density at a unit: its own row on grid cells, else the KDE cell under the
   * clicked point (KDE is on grid cells when the other layers are on hexagons). */
  function kdeAt(unit: string): api.KdeProps | undefined {
    const own = index.kde.get(unit) as api.KdeProps | undefined;
    if (own || !lastPoint || !loadedKey.has('kde') || !visible.get('kde')) return own;
    const f = map.queryRenderedFeatures(map.project(lastPoint), { layers: ['kde-fill'] })[0];
    return f ? (index.kde.get(f.properties['unit'] as string) as api.KdeProps | undefined) : undefined;
  }

  function showEvent(f: Feature<Geometry, api.EventProps>): void {
    selectedUnit = null;
    setData(map, 'selected', EMPTY);
    clear(explain);
    explain.hidden = false;
    const p = f.properties;
    explain.append(
      h('header', {}, h('h2', {}, label(p.category)),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: closeExplain }, '×')),
      h('dl', {},
        dt('Occurred', `${localDateTime(p.occurred_from, tz)} – ${localDateTime(p.occurred_to, tz)}`),
        dt('Location precision', p.precision),
        dt('Event id', String(p.id))),
    );
  }

  function closeExplain(): void {
    explain.hidden = true;
    selectedUnit = null;
    lastPoint = null;
    setData(map, 'selected', EMPTY);
  }

  map.on('click', (e) => {
    const cluster = map.getLayoutProperty('events-cluster', 'visibility') !== 'none'
      ? map.queryRenderedFeatures(e.point, { layers: ['events-cluster'] })[0] : undefined;
    if (cluster) {
      // A cluster of events: zoom in to where it splits.
      const src = map.getSource('events-clustered') as maplibregl.GeoJSONSource;
      const id = cluster.properties['cluster_id'] as number;
      void src.getClusterExpansionZoom(id).then((zoom) => {
        if (cluster.geometry.type === 'Point') map.easeTo({ center: cluster.geometry.coordinates as [number, number], zoom });
      });
      return;
    }
    const layers = ['events-circle', ...CELL_LAYERS].filter((l) => map.getLayoutProperty(l, 'visibility') !== 'none');
    const hit = map.queryRenderedFeatures(e.point, { layers });
    const ev = hit.find((f) => f.layer.id === 'events-circle');
    lastPoint = null;
    if (ev) return showEvent(ev as unknown as Feature<Geometry, api.EventProps>);
    lastPoint = e.lngLat;
    const cell = hit.find((f) => f.layer.id !== 'kde-fill' && typeof f.properties?.['unit'] === 'string')
      ?? hit.find((f) => typeof f.properties?.['unit'] === 'string');
    if (cell) {
      const unit = cell.properties['unit'] as string;
      if (!geometries.has(unit)) geometries.set(unit, cell.geometry);
      return showCell(unit);
    }
    const rateLayers = context.clickableLayers();
    const polygon = rateLayers.length ? map.queryRenderedFeatures(e.point, { layers: rateLayers })[0] : undefined;
    if (polygon) {
      const layer = polygon.layer.id.replace(/^ctx-rate-/, '').replace(/-fill$/, '');
      const props = polygon.properties as api.RateProps;
      const why = context.ratePolygon(layer, props.feature);
      return showPlace(placeName(props) ?? `${layer}, polygon ${props.feature}`, why ? [why] : []);
    }
    const area = map.queryRenderedFeatures(e.point, { layers: ['boundary-fill'] })[0];
    if (area) {
      return showPlace('Area', [h('dl', {}, Object.entries(area.properties ?? {}).map(([k, v]) => dt(k, String(v))))]);
    }
    if (context.hasLayers()) showPlace('Place', []);
  });
  for (const l of ['events-circle', 'events-cluster', ...CELL_LAYERS]) {
    map.on('mouseenter', l, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', l, () => (map.getCanvas().style.cursor = ''));
  }

  syncUrl();
  await ensure('boundary');
  void reloadVisible();

  return () => {
    disposed = true;
    slider.dispose();
    context.dispose();
    map.remove();
  };
}

/** A polygon's name for a heading, from the usual naming properties. */
function placeName(p: Record<string, unknown>): string | null {
  for (const k of ['name', 'NAME', 'NAMELSAD', 'GEOID']) {
    const v = p[k];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return null;
}

function dt(term: string, value: string): HTMLElement {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

/** A step colour ramp over the counts' quantiles (distinct breaks only). */
function countColour(counts: number[]): maplibregl.ExpressionSpecification | string {
  return rampColour(counts, 'count', COUNT_COLOURS);
}

/** A step colour ramp over a property's quantiles (of its positive values; distinct breaks
 * only). With `fine`, the breaks are finer at the low end (a density surface). */
function rampColour(values: number[], property: string, colours: string[], fine = false): maplibregl.ExpressionSpecification | string {
  const sorted = values.filter((c) => c > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return colours[0]!;
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const probs = fine ? [0.2, 0.5, 0.8, 0.95] : [0.5, 0.8, 0.95, 0.99];
  const breaks = [...new Set(probs.map(q))].filter((b) => b > sorted[0]!);
  const expr: unknown[] = ['step', ['coalesce', ['get', property], 0], colours[0]];
  breaks.forEach((b, i) => expr.push(b, colours[Math.min(i + 1, colours.length - 1)]));
  return expr as maplibregl.ExpressionSpecification;
}

/** "250 m cells" or "H3 res 9 hexagons", from a layer's `meta.units`. */
function unitsText(u: { kind?: string; cell_size?: number; resolution?: number } | undefined): string {
  if (!u) return '';
  if (u.kind === 'h3') return `H3 res ${u.resolution ?? '–'} hexagons`;
  if (u.kind === 'grid') return `${u.cell_size ?? '–'} m cells`;
  return `${u.kind} units`;
}
function unitNoun(u: { kind?: string } | undefined, n: number): string {
  const one = u?.kind === 'h3' ? 'hexagon' : u?.kind === 'grid' || !u ? 'cell' : 'area';
  return n === 1 ? one : `${one}s`;
}
/** "new hot spot" for `new_hot_spot` (the server's own `label` is used on features). */
function patternLabel(slug: string): string {
  return slug === 'no_pattern' ? 'no pattern' : label(slug);
}

// ---- whole time steps of a period (to ask for emerging hot spots only when it has enough)

const day = (d: string): number => Date.parse(`${d}T00:00:00Z`) / 86400000;
/** Whole calendar months in [from, to). */
function wholeMonths(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number, number];
  const start = fy * 12 + (fm - 1) + (fd > 1 ? 1 : 0);
  return Math.max(0, ty * 12 + (tm - 1) - start);
}
/** Whole ISO weeks (Monday to Monday) in [from, to). */
function wholeWeeks(from: string, to: string): number {
  if (!from || !to) return 0;
  const a = day(from);
  const b = day(to);
  const firstMonday = a + ((4 - (a % 7) + 7) % 7); // 1970-01-05 (day 4) was a Monday
  return Math.max(0, Math.floor((b - firstMonday) / 7));
}
/** `month` when the period has enough whole months, else `week`, else null. */
function emergingStep(from: string, to: string): 'month' | 'week' | null {
  if (!from || !to) return null;
  if (wholeMonths(from, to) >= EMERGING_MIN_STEPS) return 'month';
  if (wholeWeeks(from, to) >= EMERGING_MIN_STEPS) return 'week';
  return null;
}

// ---- the month slider

const monthStart = (i: number): string => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`;
const monthIndex = (d: string): number => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7)) - 1;

/** A range input over the months with data (the last SLIDER_MAX_MONTHS of them): its value
 * is the last month of a window of 1, 3 or 12 months; moving it sets from/to (debounced). */
function monthSlider(dataset: api.Dataset, onChange: (r: { from: string; to: string }) => void): {
  element: HTMLElement; follow: (from: string, to: string) => void; dispose: () => void;
} {
  const first = dataset.first_occurrence?.match(/^\d{4}-\d{2}/)?.[0];
  const last = dataset.last_occurrence?.match(/^\d{4}-\d{2}/)?.[0];
  if (!first || !last) {
    return { element: h('span', { hidden: true }), follow: () => {}, dispose: () => {} };
  }
  const hi = monthIndex(last);
  const lo = Math.max(monthIndex(first), hi - SLIDER_MAX_MONTHS + 1);
  const range = h('input', {
    type: 'range', id: 'f-slider', name: 'month', min: String(lo), max: String(hi), step: '1', value: String(hi),
    'aria-label': 'Last month of the period',
  });
  const windowSel = h('select', { id: 'f-slider-window', name: 'window', 'aria-label': 'Months in the period' },
    [['1', '1 month'], ['3', '3 months'], ['12', '12 months']].map(([v, t]) => h('option', { value: v! }, t!)));
  windowSel.value = '3';
  const text = h('output', { id: 'f-slider-label', for: 'f-slider' });
  let timer: number | undefined;
  const period = () => {
    const end = Number(range.value);
    const n = Number(windowSel.value);
    return { from: monthStart(end - n + 1), to: monthStart(end + 1) };
  };
  const show = () => {
    const p = period();
    text.textContent = `${p.from.slice(0, 7)}${windowSel.value === '1' ? '' : ` – ${addDays(p.to, -1).slice(0, 7)}`}`;
  };
  const changed = () => {
    show();
    window.clearTimeout(timer);
    timer = window.setTimeout(() => onChange(period()), 400);
  };
  range.addEventListener('input', changed);
  windowSel.addEventListener('change', changed);
  const follow = (from: string, to: string) => {
    // Shows the form's period on the slider when it is whole months; else leaves it be.
    if (/-01$/.test(from) && /-01$/.test(to) && from < to) {
      const n = monthIndex(to) - monthIndex(from);
      if (['1', '3', '12'].includes(String(n))) windowSel.value = String(n);
      range.value = String(monthIndex(to) - 1);
    }
    show();
  };
  show();
  return {
    element: h('div', { class: 'slider' }, h('label', {}, 'Month', range), h('span', { class: 'row' }, windowSel, text)),
    follow,
    dispose: () => window.clearTimeout(timer),
  };
}

function addSourcesAndLayers(map: maplibregl.Map): void {
  for (const id of ['boundary', 'counts', 'kde', 'hotspots', 'emerging', 'forecast', 'events', 'selected']) {
    map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  // The events again, clustered, for the circles from mid zoom (cluster sizes, no labels:
  // a symbol layer would need glyphs from elsewhere).
  map.addSource('events-clustered', { type: 'geojson', data: EMPTY, cluster: true, clusterMaxZoom: 15, clusterRadius: 30 });
  map.addLayer({ id: 'boundary-fill', type: 'fill', source: 'boundary', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.7 } });
  map.addLayer({ id: 'kde-fill', type: 'fill', source: 'kde', paint: { 'fill-color': KDE_COLOURS[0]!, 'fill-opacity': 0.75 } });
  map.addLayer({ id: 'counts-fill', type: 'fill', source: 'counts', paint: { 'fill-color': COUNT_COLOURS[0]!, 'fill-opacity': 0.75 } });
  const pattern: unknown[] = ['match', ['get', 'pattern']];
  for (const [p, c] of Object.entries(PATTERN_COLOURS)) pattern.push(p, c);
  pattern.push('#000000');
  map.addLayer({
    id: 'emerging-fill', type: 'fill', source: 'emerging',
    paint: {
      'fill-color': pattern as maplibregl.ExpressionSpecification,
      'fill-opacity': ['match', ['get', 'pattern'], 'no_pattern', 0, '', 0, 0.75],
    },
  });
  map.addLayer({
    id: 'emerging-line', type: 'line', source: 'emerging', filter: ['!=', ['get', 'pattern'], 'no_pattern'],
    paint: { 'line-color': '#4d4d4d', 'line-width': 0.5 },
  });
  map.addLayer({
    id: 'hotspots-fill', type: 'fill', source: 'hotspots',
    paint: {
      'fill-color': ['match', ['get', 'spot'], 'hot', '#d7301f', 'cold', '#2b8cbe', '#000000'],
      'fill-opacity': ['match', ['get', 'spot'], 'hot', 0.6, 'cold', 0.35, 0],
    },
  });
  map.addLayer({
    id: 'hotspots-line', type: 'line', source: 'hotspots', filter: ['==', ['get', 'spot'], 'hot'],
    paint: { 'line-color': '#99000d', 'line-width': 0.8 },
  });
  map.addLayer({ id: 'boundary-line', type: 'line', source: 'boundary', paint: { 'line-color': '#6b7785', 'line-width': 0.8 } });
  map.addLayer({ id: 'forecast-fill', type: 'fill', source: 'forecast', paint: { 'fill-color': '#7b1fa2', 'fill-opacity': 0.3 } });
  map.addLayer({ id: 'forecast-line', type: 'line', source: 'forecast', paint: { 'line-color': '#4a148c', 'line-width': 2 } });
  map.addLayer({
    id: 'events-heat', type: 'heatmap', source: 'events', maxzoom: 14,
    paint: {
      'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 10, 5, 14, 16],
      'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 10, 0.3, 14, 1],
      // one dark blue hue, so that it reads apart from the counts' yellow-to-red ramp
      'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(20,40,90,0)', 0.2, 'rgba(20,40,90,0.25)', 0.6, 'rgba(20,40,90,0.6)', 1, 'rgba(10,20,60,0.9)'],
      'heatmap-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0.8, 14, 0],
    },
  });
  const colour: unknown[] = ['match', ['get', 'category']];
  for (const c of CATEGORIES) colour.push(c, categoryColour(c));
  colour.push('#5d6d7e');
  map.addLayer({
    id: 'events-cluster', type: 'circle', source: 'events-clustered', minzoom: 12, filter: ['has', 'point_count'],
    paint: {
      'circle-color': '#14285a',
      'circle-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0, 13, 0.7],
      'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 6, 20, 12, 200, 20],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1,
    },
  });
  map.addLayer({
    id: 'events-circle', type: 'circle', source: 'events-clustered', minzoom: 12, filter: ['!', ['has', 'point_count']],
    paint: {
      'circle-color': colour as maplibregl.ExpressionSpecification,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 2.5, 16, 6],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 0.6,
      'circle-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0, 13, 0.9],
    },
  });
  map.addLayer({ id: 'selected-line', type: 'line', source: 'selected', paint: { 'line-color': '#000000', 'line-width': 3 } });
}
