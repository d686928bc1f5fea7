// The analyst map: events, grid counts, Gi* hot spots and forecast top cells over the
// jurisdiction's own boundaries, with filters and a click-for-explanation side panel.
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import * as api from '../api';
import { CATEGORIES, MODELS, categoryColour } from '../categories';
import { h, clear, int, num, pValue, pEq, label, localDate, lastDay, localDateTime, addDays } from '../dom';
import { createMap, loaded, setData, bounds, EMPTY, maplibregl } from '../map/base';
import { ContextLayers } from '../map/context';
import { replaceParams, type Cleanup } from '../router';
import { currentDataset, lastEventDay } from '../state';

type LayerId = 'boundary' | 'counts' | 'hotspots' | 'forecast' | 'events';

interface LayerDef {
  id: LayerId;
  title: string;
  styleLayers: string[];
  on: boolean;
}

const LAYERS: LayerDef[] = [
  { id: 'boundary', title: 'Boundaries', styleLayers: ['boundary-fill', 'boundary-line'], on: true },
  { id: 'counts', title: 'Grid counts', styleLayers: ['counts-fill'], on: true },
  { id: 'hotspots', title: 'Gi* hot spots', styleLayers: ['hotspots-fill', 'hotspots-line'], on: false },
  { id: 'forecast', title: 'Forecast top cells', styleLayers: ['forecast-fill', 'forecast-line'], on: true },
  { id: 'events', title: 'Events', styleLayers: ['events-heat', 'events-circle'], on: false },
];

const CELL_LAYERS = ['forecast-fill', 'hotspots-fill', 'counts-fill'];
const COUNT_COLOURS = ['#ffffcc', '#fed976', '#fd8d3c', '#e31a1c', '#800026'];

interface Filters {
  category: string;
  from: string;
  to: string;
  cell_size: string;
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
    cell_size: params.get('cell_size') ?? '250',
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
  const cellSize = h('select', { id: 'f-cell-size', name: 'cell_size' },
    ['150', '250', '500'].map((v) => h('option', { value: v }, `${v} m`)));
  cellSize.value = filters.cell_size;
  const model = h('select', { id: 'f-model', name: 'model' }, MODELS.map((m) => h('option', { value: m }, m)));
  model.value = filters.model;
  const apply = h('button', { type: 'submit', id: 'f-apply' }, 'Apply');
  const form = h('form', { class: 'filters', id: 'map-filters' },
    h('label', {}, 'Category', category),
    h('div', { class: 'row' }, h('label', {}, 'From', from), h('label', {}, 'To (excluded)', to)),
    h('div', { class: 'row' }, h('label', {}, 'Cell size', cellSize), h('label', {}, 'Forecast model', model)),
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
  const index: Record<'counts' | 'hotspots' | 'forecast', Map<string, Record<string, unknown>>> = {
    counts: new Map(), hotspots: new Map(), forecast: new Map(),
  };
  const meta: Partial<Record<LayerId, unknown>> = {};
  const loadedKey = new Map<LayerId, string>();
  let selectedUnit: string | null = null;
  /** Where the place in the explanation was clicked (for its nearby context). */
  let lastPoint: maplibregl.LngLat | null = null;
  let disposed = false;

  const selection = (): api.Query => ({
    category: filters.category, from: filters.from, to: filters.to,
  });
  const keyOf = (id: LayerId): string => {
    switch (id) {
      case 'boundary': return name;
      case 'events': return JSON.stringify([name, selection()]);
      case 'counts':
      case 'hotspots': return JSON.stringify([name, selection(), filters.cell_size]);
      case 'forecast': return JSON.stringify([name, filters.category, filters.cell_size, filters.model]);
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

  const pending = new Map<LayerId, Promise<void>>();
  async function ensure(id: LayerId): Promise<void> {
    const key = keyOf(id);
    if (loadedKey.get(id) === key) return;
    const running = pending.get(id);
    if (running) return running;
    const p = load(id, key).finally(() => pending.delete(id));
    pending.set(id, p);
    return p;
  }

  /** Whether the view has been fitted to the data (the boundary, or else the counts). */
  let fitted = false;

  async function load(id: LayerId, key: string): Promise<void> {
    setStatus(`Loading ${LAYERS.find((l) => l.id === id)!.title.toLowerCase()}…`);
    const cell = { cell_size: filters.cell_size };
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
        case 'forecast': {
          const fc = await api.forecast(name, {
            category: filters.category, ...cell, model: filters.model, horizon_days: 7, coverage: 2, cells: 'flagged',
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
    filters.cell_size = cellSize.value;
    filters.model = model.value;
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
    if (visible.get('counts') && meta.counts) {
      const m = meta.counts as api.SelectionMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Grid counts'),
        h('span', { class: 'swatches' }, COUNT_COLOURS.map((c) => h('i', { style: `background:${c}` }))),
        h('small', {}, `${int(m.events)} events, ${cats(m)}, ${period(m)}; ${m.units?.cell_size ?? ''} m cells`)));
    }
    if (visible.get('hotspots') && meta.hotspots) {
      const m = meta.hotspots as api.HotspotsMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Gi* hot spots'),
        h('span', { class: 'swatches' }, h('i', { style: 'background:#d7301f' }), ' hot ', h('i', { style: 'background:#2b8cbe' }), ' cold'),
        h('small', {}, `${int(m.parameters.hot_spots)} hot, ${int(m.parameters.cold_spots)} cold at FDR α = ${m.parameters.alpha ?? '–'}, ${m.parameters.permutations ?? 0} permutations; ${period(m)}`)));
    }
    if (visible.get('forecast') && meta.forecast) {
      const m = meta.forecast as api.ForecastMeta;
      legend.append(h('div', { class: 'legend-item' },
        h('strong', {}, 'Forecast top cells'),
        h('span', { class: 'swatches' }, h('i', { style: 'background:#7b1fa2' })),
        h('small', {}, `${m.model}, ${cats(m)}: ${int(m.flagged_cells)} cells (${num(m.flagged_area_km2)} km²) for ${m.horizon_days} days from ${localDate(m.origin, tz)}`)));
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
      if (gi.spot === 'hot') lines.push(`A hot spot: this cell and its neighbours hold more events than the city-wide rate would give (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)} < ${alpha}).`);
      else if (gi.spot === 'cold') lines.push(`A cold spot: this cell and its neighbours hold fewer events than the city-wide rate would give (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)} < ${alpha}).`);
      else lines.push(`Not a significant hot or cold spot (Gi* z = ${num(gi.z)}, FDR-adjusted ${pEq(gi.p_spot_fdr)}).`);
      items.push(dt('Gi* z', num(gi.z)), dt('p (FDR-adjusted)', pValue(gi.p_spot_fdr)), dt('Spot', gi.spot || 'none'));
    } else if (!loadedKey.has('hotspots')) {
      items.push(dt('Gi*', 'turn on “Gi* hot spots” to see this cell’s statistics'));
    }
    if (loadedKey.has('forecast')) {
      const m = meta.forecast as api.ForecastMeta;
      if (fc) {
        const cats = m.categories.length ? m.categories.map(label).join(', ') : 'all categories';
        const what = m.expected_counts ? `${num(fc.score, 3)} expected events (${cats})` : `score ${num(fc.score, 3)} (${cats})`;
        lines.push(`Forecast: ranked ${fc.rank} by the ${m.model} model, ${what} in the ${m.horizon_days} days from ${localDate(m.origin, tz)}; flagged (the top ${m.coverage_pct ?? ''}% of the area).`);
        items.push(dt('Forecast rank', `${fc.rank} of ${int(m.units.cells)}`), dt(m.expected_counts ? 'Expected events' : 'Score', num(fc.score, 3)));
      } else {
        lines.push(`Forecast: not among the ${int(m.flagged_cells)} cells the ${m.model} model flags.`);
        items.push(dt('Forecast', 'not flagged'));
      }
    }
    explain.append(
      h('header', {}, h('h2', {}, `Cell ${unit}`),
        h('button', { type: 'button', class: 'close', 'aria-label': 'Close', onclick: closeExplain }, '×')),
      h('div', { class: 'why' }, lines.map((l) => h('p', {}, l))),
      h('dl', {}, items),
      h('p', { class: 'muted small' }, `${cellSizeOf() ?? '–'} m grid cell; row 0 is the southernmost row, col 0 the westernmost. Times in ${tz ?? 'the dataset’s zone'}.`),
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
    for (const id of ['counts', 'hotspots', 'forecast'] as const) {
      const size = (meta[id] as { units?: { cell_size?: number } } | undefined)?.units?.cell_size;
      if (size !== undefined) return size;
    }
    return undefined;
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
    const layers = ['events-circle', ...CELL_LAYERS].filter((l) => map.getLayoutProperty(l, 'visibility') !== 'none');
    const hit = map.queryRenderedFeatures(e.point, { layers });
    const ev = hit.find((f) => f.layer.id === 'events-circle');
    lastPoint = null;
    if (ev) return showEvent(ev as unknown as Feature<Geometry, api.EventProps>);
    lastPoint = e.lngLat;
    const cell = hit.find((f) => typeof f.properties?.['unit'] === 'string');
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
  for (const l of ['events-circle', ...CELL_LAYERS]) {
    map.on('mouseenter', l, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', l, () => (map.getCanvas().style.cursor = ''));
  }

  syncUrl();
  await ensure('boundary');
  void reloadVisible();

  return () => {
    disposed = true;
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
  const sorted = counts.filter((c) => c > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return COUNT_COLOURS[0]!;
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const breaks = [...new Set([q(0.5), q(0.8), q(0.95), q(0.99)])].filter((b) => b > sorted[0]!);
  const expr: unknown[] = ['step', ['get', 'count'], COUNT_COLOURS[0]];
  breaks.forEach((b, i) => expr.push(b, COUNT_COLOURS[Math.min(i + 1, COUNT_COLOURS.length - 1)]));
  return expr as maplibregl.ExpressionSpecification;
}

function addSourcesAndLayers(map: maplibregl.Map): void {
  for (const id of ['boundary', 'counts', 'hotspots', 'forecast', 'events', 'selected']) {
    map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  map.addLayer({ id: 'boundary-fill', type: 'fill', source: 'boundary', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.7 } });
  map.addLayer({ id: 'counts-fill', type: 'fill', source: 'counts', paint: { 'fill-color': COUNT_COLOURS[0]!, 'fill-opacity': 0.75 } });
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
    id: 'events-circle', type: 'circle', source: 'events', minzoom: 12,
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
