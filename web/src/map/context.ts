// Context layers on the analyst map: the layers an agency uploaded for the dataset
// (points as circles, lines, polygons as outlines), each with a toggle; for polygon
// layers with a population field, a "rate per 1,000 residents" choropleth from
// rates.geojson with the map's filters; and what is near a clicked place (/nearby).
// The numbers are the server's; the UI only classes rates into colours for the map.
import type { FeatureCollection, Geometry } from 'geojson';
import * as api from '../api';
import { h, clear, int, num, label, localDate, lastDay } from '../dom';
import { setData, maplibregl } from './base';

/** A colour per context layer, in list order (apart from the analysis layers' colours). */
const LAYER_COLOURS = ['#00796b', '#6a1b9a', '#ef6c00', '#455a64', '#ad1457', '#2e7d32'];
/** Rates per 1,000 residents, low to high (one blue hue, apart from the counts' ramp). */
const RATE_COLOURS = ['#f1eef6', '#bdc9e1', '#74a9cf', '#2b8cbe', '#045a8d'];
/** Polygons where nobody lives: no rate. */
const NO_RESIDENTS = '#c8c8c8';
/** Radius of the click explanation's "nearby", metres (the server's default). */
export const NEARBY_RADIUS_M = 200;

interface Entry {
  info: api.ContextLayerInfo;
  colour: string;
  shown: boolean;
  rate: boolean;
  loaded: boolean;
  rateKey: string | null;
  rateMeta?: api.RatesMeta;
  rateRows: Map<number, api.RateProps>;
  rateBreaks: number[];
}

interface Hooks {
  /** The map's current selection (category, from, to). */
  selection: () => api.Query;
  status: (text: string, isError?: boolean) => void;
  /** Something the legend shows changed. */
  changed: () => void;
}

const layerId = (name: string, part: string) => `ctx-${name}-${part}`;
const rateId = (name: string, part: string) => `ctx-rate-${name}-${part}`;

export class ContextLayers {
  private readonly entries: Entry[] = [];
  private disposed = false;
  private nearbyCache = new Map<string, Promise<api.Nearby>>();

  constructor(
    private readonly map: maplibregl.Map,
    private readonly dataset: string,
    private readonly timeZone: string | undefined,
    private readonly hooks: Hooks,
  ) {}

  dispose(): void {
    this.disposed = true;
  }

  hasLayers(): boolean {
    return this.entries.length > 0;
  }

  /** Reads the dataset's layers and renders their toggles into `fieldset`. */
  async init(fieldset: HTMLFieldSetElement): Promise<void> {
    clear(fieldset);
    fieldset.append(h('legend', {}, 'Context layers'));
    let list: api.ContextLayerInfo[];
    try {
      list = await api.contextLayers(this.dataset);
    } catch (e) {
      fieldset.append(h('p', { class: 'muted small' }, `Context layers: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    if (this.disposed) return;
    if (list.length === 0) {
      fieldset.append(h('p', { class: 'muted small', id: 'ctx-none' },
        'None yet. An analyst adds them below, with `streetlight layer add`, or POST /api/datasets/…/layers/NAME.'));
    }
    list.forEach((info) => this.addToggle(fieldset, info));
    fieldset.append(this.uploadForm(fieldset));
  }

  /** A form to add a layer from a GeoJSON file (WGS84): the server checks it, names the
   * feature it refuses, and audits the upload; viewers and supervisors get its 403. */
  private uploadForm(fieldset: HTMLFieldSetElement): HTMLElement {
    const name = h('input', { id: 'ctx-upload-name', name: 'layer', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', placeholder: 'bus_stops' });
    const population = h('input', { id: 'ctx-upload-population', name: 'population_field', placeholder: 'optional, e.g. total_pop' });
    const file = h('input', { id: 'ctx-upload-file', name: 'file', type: 'file', accept: '.geojson,.json,application/geo+json,application/json', required: true });
    const submit = h('button', { type: 'submit', id: 'ctx-upload-submit' }, 'Upload');
    const form = h('form', { class: 'ctx-upload', id: 'ctx-upload' },
      h('label', { for: 'ctx-upload-name' }, 'Name'), name,
      h('label', { for: 'ctx-upload-population' }, 'Population field'), population,
      h('label', { for: 'ctx-upload-file' }, 'GeoJSON file (WGS84)'), file, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) return;
      submit.disabled = true;
      this.hooks.status(`Uploading ${chosen.name}…`);
      try {
        const info = await api.uploadContextLayer(this.dataset, name.value.trim(), await chosen.text(), {
          population_field: population.value.trim(), file_name: chosen.name,
        });
        if (this.disposed) return;
        const known = this.entries.find((e) => e.info.name === info.name);
        if (known) {
          this.hooks.status(`Layer ${info.name} replaced (${int(info.features)} features): reload the page to draw the new version.`);
        } else {
          fieldset.querySelector('#ctx-none')?.remove();
          this.addToggle(fieldset, info, form);
          this.hooks.status(`Layer ${info.name} added: ${int(info.features)} ${info.kind}.`);
        }
        form.reset();
      } catch (e) {
        this.hooks.status(`Upload: ${e instanceof Error ? e.message : String(e)}`, true);
      } finally {
        submit.disabled = false;
      }
    });
    return h('details', { class: 'ctx-upload-box' }, h('summary', {}, 'Add a layer'), form);
  }

  /** A layer's toggle (and its rate toggle), before the upload box when `before` is in it. */
  private addToggle(fieldset: HTMLFieldSetElement, info: api.ContextLayerInfo, before?: HTMLElement): void {
    const place = (el: HTMLElement) => {
      const box = before?.closest('details');
      if (box) fieldset.insertBefore(el, box);
      else fieldset.append(el);
    };
    {
      const i = this.entries.length;
      const entry: Entry = {
        info, colour: LAYER_COLOURS[i % LAYER_COLOURS.length]!, shown: false, rate: false, loaded: false,
        rateKey: null, rateRows: new Map(), rateBreaks: [],
      };
      this.entries.push(entry);
      const box = h('input', { type: 'checkbox', id: `ctx-${info.name}`, 'data-context-layer': info.name });
      box.addEventListener('change', () => void this.setShown(entry, box.checked));
      const kind = info.kind === 'points' ? 'points' : info.kind === 'lines' ? 'lines' : 'outlines';
      place(h('label', { class: 'toggle', title: `${info.file_name}, uploaded ${info.uploaded_at}` }, box,
        h('i', { class: 'swatch', style: `background:${entry.colour}` }), `${info.name} (${int(info.features)} ${kind})`));
      if (info.kind === 'polygons' && info.population_field) {
        const rate = h('input', { type: 'checkbox', id: `ctx-rate-${info.name}`, 'data-rate-layer': info.name });
        rate.addEventListener('change', () => void this.setRate(entry, rate.checked));
        place(h('label', { class: 'toggle' }, rate, `${info.name}: rate per 1,000 residents`));
      }
    }
  }

  private async setShown(entry: Entry, on: boolean): Promise<void> {
    entry.shown = on;
    if (on && !entry.loaded) {
      this.hooks.status(`Loading context layer ${entry.info.name}…`);
      try {
        const fc = await api.contextLayer(this.dataset, entry.info.name);
        if (this.disposed) return;
        this.addLayer(entry, fc);
        entry.loaded = true;
        this.hooks.status('');
      } catch (e) {
        if (this.disposed) return;
        this.hooks.status(`Context layer ${entry.info.name}: ${e instanceof Error ? e.message : String(e)}`, true);
        return;
      }
    }
    if (entry.loaded) {
      for (const id of this.styleLayers(entry)) this.map.setLayoutProperty(id, 'visibility', entry.shown ? 'visible' : 'none');
    }
    this.hooks.changed();
  }

  private styleLayers(entry: Entry): string[] {
    const n = entry.info.name;
    return entry.info.kind === 'points' ? [layerId(n, 'circle')] : entry.info.kind === 'lines' ? [layerId(n, 'line')] : [layerId(n, 'outline')];
  }

  /** Adds the layer's source and style, above the analysis layers and under the events. */
  private addLayer(entry: Entry, fc: FeatureCollection<Geometry | null>): void {
    const n = entry.info.name;
    const source = layerId(n, 'source');
    this.map.addSource(source, { type: 'geojson', data: fc as FeatureCollection });
    const before = this.map.getLayer('events-heat') ? 'events-heat' : undefined;
    if (entry.info.kind === 'points') {
      this.map.addLayer({
        id: layerId(n, 'circle'), type: 'circle', source,
        paint: {
          'circle-color': entry.colour,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 15, 5],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 0.8,
        },
      }, before);
    } else if (entry.info.kind === 'lines') {
      this.map.addLayer({
        id: layerId(n, 'line'), type: 'line', source,
        paint: { 'line-color': entry.colour, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 1.2, 15, 3] },
      }, before);
    } else {
      this.map.addLayer({
        id: layerId(n, 'outline'), type: 'line', source,
        paint: { 'line-color': entry.colour, 'line-width': 1.2, 'line-opacity': 0.9 },
      }, before);
    }
  }

  private rateKey(entry: Entry): string {
    return JSON.stringify([this.dataset, entry.info.name, this.hooks.selection()]);
  }

  private async setRate(entry: Entry, on: boolean): Promise<void> {
    entry.rate = on;
    if (on) await this.loadRate(entry);
    if (this.map.getLayer(rateId(entry.info.name, 'fill'))) {
      for (const part of ['fill', 'line']) {
        this.map.setLayoutProperty(rateId(entry.info.name, part), 'visibility', entry.rate ? 'visible' : 'none');
      }
    }
    this.hooks.changed();
  }

  /** (Re)loads a rate choropleth for the current selection, unless it is loaded already. */
  private async loadRate(entry: Entry): Promise<void> {
    const key = this.rateKey(entry);
    if (entry.rateKey === key) return;
    const n = entry.info.name;
    this.hooks.status(`Loading rates per 1,000 residents (${n})…`);
    try {
      const fc = await api.rates(this.dataset, { ...this.hooks.selection(), layer: n });
      if (this.disposed) return;
      entry.rateMeta = fc.meta;
      entry.rateRows = new Map(fc.features.map((f) => [f.properties.feature, f.properties]));
      entry.rateBreaks = breaks(fc.features.map((f) => f.properties.rate_per_1000));
      const source = rateId(n, 'source');
      if (!this.map.getSource(source)) {
        this.map.addSource(source, { type: 'geojson', data: fc as FeatureCollection });
        const before = this.map.getLayer('hotspots-fill') ? 'hotspots-fill' : undefined;
        this.map.addLayer({ id: rateId(n, 'fill'), type: 'fill', source, paint: { 'fill-opacity': 0.75 } }, before);
        this.map.addLayer({ id: rateId(n, 'line'), type: 'line', source, paint: { 'line-color': '#ffffff', 'line-width': 0.4 } }, before);
      } else {
        setData(this.map, source, fc);
      }
      this.map.setPaintProperty(rateId(n, 'fill'), 'fill-color', rateColour(entry.rateBreaks));
      entry.rateKey = key;
      this.hooks.status('');
    } catch (e) {
      if (this.disposed) return;
      this.hooks.status(`Rates (${n}): ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }

  /** Reloads the visible rate layers after the filters changed. */
  async reload(): Promise<void> {
    this.nearbyCache.clear();
    await Promise.all(this.entries.filter((e) => e.rate).map((e) => this.loadRate(e)));
    this.hooks.changed();
  }

  /** The style layers a click may hit (rate polygons). */
  clickableLayers(): string[] {
    return this.entries.filter((e) => e.rate && this.map.getLayer(rateId(e.info.name, 'fill'))).map((e) => rateId(e.info.name, 'fill'));
  }

  legendItems(): HTMLElement[] {
    const items: HTMLElement[] = [];
    for (const e of this.entries) {
      if (e.shown && e.loaded) {
        items.push(h('div', { class: 'legend-item' },
          h('strong', {}, h('i', { class: 'swatch', style: `background:${e.colour}` }), ` ${e.info.name}`),
          h('small', {}, `${int(e.info.features)} ${e.info.kind} from ${e.info.file_name}`)));
      }
      const m = e.rateMeta;
      if (e.rate && m) {
        const cats = m.categories.length ? m.categories.map(label).join(', ') : 'all categories';
        const edges = [0, ...e.rateBreaks];
        items.push(h('div', { class: 'legend-item', id: `legend-rate-${e.info.name}` },
          h('strong', {}, `Events per 1,000 residents (${m.layer})`),
          h('span', { class: 'swatches' },
            RATE_COLOURS.slice(0, edges.length).map((c, i) => h('i', { style: `background:${c}`, title: `from ${num(edges[i], 2)}` })),
            ' ', h('i', { style: `background:${NO_RESIDENTS}` }), ' no residents'),
          h('small', {}, `${cats}, ${localDate(m.from, this.timeZone)} – ${lastDay(m.to, this.timeZone)}: ${int(m.in_polygons)} events in ${int(m.features)} polygons of ${int(m.population)} residents, ${num(m.rate_per_1000, 2)} per 1,000 overall (per period, not per year); ${int(m.outside_polygons)} outside, ${int(m.without_point)} without a point. Classes from ${edges.map((b) => num(b, 2)).join(', ')}.`)));
      }
    }
    return items;
  }

  /** The explanation of a clicked rate polygon. */
  ratePolygon(layer: string, feature: number): HTMLElement | null {
    const e = this.entries.find((x) => x.info.name === layer);
    const row = e?.rateRows.get(feature);
    const m = e?.rateMeta;
    if (!e || !row || !m) return null;
    return h('div', { class: 'why' }, h('p', {}, rateSentence(row, m, this.timeZone)));
  }

  /** "Nearby" for the explanation of a place: each layer's features within the radius. */
  async nearbySection(at: maplibregl.LngLat): Promise<HTMLElement | null> {
    if (!this.hasLayers()) return null;
    const key = `${at.lng.toFixed(6)},${at.lat.toFixed(6)}`;
    let pending = this.nearbyCache.get(key);
    if (!pending) {
      pending = api.nearby(this.dataset, { lon: at.lng.toFixed(6), lat: at.lat.toFixed(6), radius: NEARBY_RADIUS_M });
      this.nearbyCache.set(key, pending);
    }
    let n: api.Nearby;
    try {
      n = await pending;
    } catch (e) {
      this.nearbyCache.delete(key);
      return h('p', { class: 'muted small' }, `Nearby: ${e instanceof Error ? e.message : String(e)}`);
    }
    const lines = n.layers.map((l) => {
      const f = l.nearest;
      if (!f) return h('li', {}, `${l.layer}: no features`);
      if (l.kind === 'polygons' && f.distance_m === 0) {
        const entry = this.entries.find((x) => x.info.name === l.layer);
        const row = entry?.rateRows.get(f.feature);
        const about = row && entry?.rateMeta
          ? `: ${rateSentence(row, entry.rateMeta, this.timeZone, false)}`
          : f.population === null ? '' : ` (${int(f.population)} residents)`;
        return h('li', {}, `${l.layer}: in ${f.label}${about}`);
      }
      const what = l.kind === 'points' ? 'within' : 'within or crossing';
      return h('li', {}, `${l.layer}: ${int(l.within)} ${what} ${int(n.radius_m)} m; nearest ${f.label}, ${int(f.distance_m)} m away`);
    });
    return h('section', { class: 'nearby', id: 'nearby' }, h('h3', {}, `Nearby (within ${int(n.radius_m)} m)`), h('ul', {}, lines));
  }
}

/** "27 events (robbery, 2024-10-01 – 2024-12-31), 3,873 residents: 6.97 per 1,000". */
function rateSentence(row: api.RateProps, m: api.RatesMeta, tz: string | undefined, withPeriod = true): string {
  const cats = m.categories.length ? m.categories.map(label).join(', ') : 'all categories';
  const period = withPeriod ? ` (${cats}, ${localDate(m.from, tz)} – ${lastDay(m.to, tz)})` : '';
  const rate = row.rate_per_1000 === null ? 'no rate: nobody lives here' : `${num(row.rate_per_1000, 2)} per 1,000 residents`;
  return `${int(row.count)} ${row.count === 1 ? 'event' : 'events'}${period}, ${int(row.population)} residents: ${rate}`;
}

/** Quantile class breaks of the non-null rates (distinct, above the lowest). */
function breaks(rates: (number | null)[]): number[] {
  const sorted = rates.filter((r): r is number => r !== null && Number.isFinite(r)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return [...new Set([q(0.2), q(0.4), q(0.6), q(0.8)])].filter((b) => b > sorted[0]!);
}

function rateColour(b: number[]): maplibregl.ExpressionSpecification {
  const step: unknown[] = ['step', ['get', 'rate_per_1000'], RATE_COLOURS[0]];
  b.forEach((v, i) => step.push(v, RATE_COLOURS[Math.min(i + 1, RATE_COLOURS.length - 1)]));
  return ['case', ['==', ['typeof', ['get', 'rate_per_1000']], 'number'], step, NO_RESIDENTS] as unknown as maplibregl.ExpressionSpecification;
}
