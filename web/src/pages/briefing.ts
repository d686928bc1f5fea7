// Shift briefing, phone-sized first: for a chosen shift and area (the whole jurisdiction, or
// one district, beat or neighbourhood code), the top places with why, a small map with
// numbered places, near-repeat notices and what to do there.
import type { Feature, Geometry } from 'geojson';
import * as api from '../api';
import { CATEGORIES } from '../categories';
import { h, clear, int, num, pct, pEq, label, localDate, addDays, errorBox } from '../dom';
import { bounds, centre, createMap, loaded, setData, EMPTY, maplibregl } from '../map/base';
import { replaceParams, type Cleanup } from '../router';
import { currentDataset, lastEventDay } from '../state';
import { areaName, areaPicker } from './common';

const SHIFTS: Record<string, string> = { day: '07-15', evening: '15-23', night: '23-07' };
const VIOLENCE = ['homicide', 'robbery', 'aggravated_assault', 'simple_assault', 'sexual_offence', 'weapons'];

/** What to do at a place, from its leading categories (evidence-based, general guidance). */
function advice(categories: string[]): string {
  const c = categories[0] ?? '';
  if (c.includes('burglary')) return 'Visible patrol of the surrounding streets; check insecure doors and windows; tell neighbours about the raised risk for the next two weeks.';
  if (c.includes('vehicle')) return 'Walk the parking areas and kerbside; remind owners to lock up and take valuables out of sight.';
  if (VIOLENCE.includes(c)) return 'High-visibility presence around the peak hour; speak with place managers (shops, bars, housing staff) about what draws trouble here.';
  if (['drugs', 'disorder', 'cfs_disorder'].includes(c)) return 'Problem-solving contact with place managers and partners; note lighting, vacant lots and other conditions to report.';
  return 'Short visible stops; note conditions (lighting, vacant lots, broken locks) to pass to partners.';
}

/** Categories of a priorities `by_category` text, in its order (e.g. "homicide: 2 (harm …); …"). */
function leading(byCategory: string | undefined): string[] {
  return (byCategory ?? '').split(';').map((x) => x.trim().split(':')[0] ?? '').filter((x) => x && x !== 'other kinds');
}

export async function briefingPage(root: HTMLElement, params: URLSearchParams): Promise<Cleanup> {
  const dataset = currentDataset()!;
  const tz = dataset.time_zone;
  const last = lastEventDay(dataset);
  const sel = {
    shift: params.get('shift') ?? 'night',
    category: params.get('category') ?? '',
    date: params.get('date') ?? (last ? addDays(last, 1) : ''),
    /** `LEVEL=CODE` (district=3), or '' for the whole jurisdiction. */
    area: params.get('area') ?? '',
  };

  const shift = h('select', { id: 'b-shift', name: 'shift' },
    Object.entries(SHIFTS).map(([n, hrs]) => h('option', { value: n }, `${n} (${hrs.replace('-', '–')})`)));
  shift.value = sel.shift;
  const category = h('select', { id: 'b-category', name: 'category' }, h('option', { value: '' }, 'all categories'),
    CATEGORIES.map((c) => h('option', { value: c }, label(c))));
  category.value = sel.category;
  const date = h('input', { type: 'date', id: 'b-date', name: 'date', value: sel.date });
  const areaPick = areaPicker(dataset, sel.area, 'b');
  const form = h('form', { class: 'filters inline briefing-form', id: 'briefing-form' },
    h('label', {}, 'Shift', shift), h('label', {}, 'Date', date), h('label', {}, 'Category', category),
    areaPick.element,
    h('button', { type: 'submit' }, 'Update'));
  const title = h('h1', { id: 'briefing-title' }, 'Shift briefing');
  const mapEl = h('div', { class: 'map small-map', id: 'briefing-map' });
  const list = h('ol', { class: 'places', id: 'places' });
  const notices = h('div', { class: 'notices', id: 'notices' });
  const status = h('div', { id: 'briefing-status' });
  root.append(h('div', { class: 'briefing' },
    title, form, status,
    h('div', { class: 'briefing-grid' },
      mapEl,
      h('section', { class: 'card places-card' }, h('h2', {}, 'Top places this shift'), list),
      notices)));

  const map = createMap(mapEl, 'briefing', { zoom: 11, cooperativeGestures: false });
  let markers: maplibregl.Marker[] = [];
  let disposed = false;
  await loaded(map);
  map.addSource('boundary', { type: 'geojson', data: EMPTY });
  map.addSource('places', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'boundary-fill', type: 'fill', source: 'boundary', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.8 } });
  map.addLayer({ id: 'boundary-line', type: 'line', source: 'boundary', paint: { 'line-color': '#9aa3ad', 'line-width': 0.6 } });
  map.addLayer({ id: 'places-fill', type: 'fill', source: 'places', paint: { 'fill-color': '#7b1fa2', 'fill-opacity': 0.35 } });
  map.addLayer({ id: 'places-line', type: 'line', source: 'places', paint: { 'line-color': '#4a148c', 'line-width': 2 } });
  api.boundary(dataset.name).then((b) => !disposed && setData(map, 'boundary', b)).catch(() => {});

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sel.shift = shift.value;
    sel.category = category.value;
    sel.date = date.value;
    sel.area = areaPick.value();
    replaceParams(Object.fromEntries(Object.entries(sel).filter(([, v]) => v)));
    void show();
  });

  async function show(): Promise<void> {
    clear(status);
    clear(list);
    clear(notices);
    status.append(h('p', { class: 'muted' }, 'Loading…'));
    const hours = SHIFTS[sel.shift] ?? '23-07';
    const nrCategory = sel.category || 'residential_burglary';
    const area = sel.area;
    let fc: api.Layer<api.ForecastProps, api.ForecastMeta>;
    let pr: api.Layer<api.PriorityProps, api.PrioritiesMeta> | null;
    let nr: api.NearRepeat | null;
    try {
      fc = await api.forecast(dataset.name, {
        category: sel.category, model: 'retrospective', cell_size: 250, horizon_days: 1, top_cells: 10,
        shift: `${sel.shift}=${hours}`, at: sel.date, cells: 'flagged', area,
      });
      const recent = { category: sel.category, area, cell_size: 250, from: addDays(sel.date, -28), to: sel.date };
      [pr, nr] = await Promise.all([
        // the last 28 days at exactly the forecast's places (any rank), for the reasons
        api.priorities(dataset.name, { ...recent, units: fc.features.map((f) => f.properties.unit).join(',') })
          .catch(() => null),
        api.nearRepeat(dataset.name, { category: nrCategory, area, from: addDays(sel.date, -90), to: sel.date }).catch(() => null),
      ]);
    } catch (e) {
      clear(status);
      status.append(errorBox(e));
      return;
    }
    if (disposed) return;
    clear(status);
    const m = fc.meta;
    const shiftName = label(sel.shift);
    clear(title);
    // The answers' meta does not repeat the area, so the title names the one requested.
    const where = areaName(area);
    title.append(`${shiftName.charAt(0).toUpperCase()}${shiftName.slice(1)} shift briefing · `,
      h('span', { class: 'nowrap' }, localDate(m.origin, tz)));
    if (where) title.append(h('span', { class: 'nowrap', id: 'briefing-area' }, ` · ${where}`));
    status.append(h('p', { class: 'muted small', id: 'briefing-selection' },
      `${where ? `${where}: events with that ${area.split('=')[0]} code only. ` : ''}`,
      `${m.categories.length ? m.categories.map(label).join(', ') : 'All categories'}. Places are ${m.units.cell_size ?? 250} m cells ranked by the ${m.model} model's expected events during the shift (fitted on ${int(m.train_events)} events of the last ${m.train_days} days).`),
      h('p', { class: 'notice', id: 'patrol' }, h('strong', {}, 'At each place: '),
        '2–3 visible visits in the shift, 10–15 minutes each, at unpredictable times (longer stops add little deterrence; Koper 1995).'));

    const byUnit = new Map<string, api.PriorityProps>();
    for (const f of pr?.features ?? []) byUnit.set(f.properties.unit, f.properties);
    const places = [...fc.features].sort((a, b) => a.properties.rank - b.properties.rank);

    places.forEach((f, i) => {
      const p = f.properties;
      const prio = byUnit.get(p.unit);
      const cats = prio ? leading(prio.by_category) : sel.category ? [sel.category] : [];
      const why = prio
        ? `Last 28 days: ${prio.why}.`
        : 'Last 28 days: no events recorded here; ranked on the longer history the model weighs.';
      const todo = cats.length ? advice(cats) : null;
      list.append(h('li', { class: 'place', 'data-unit': p.unit },
        h('div', { class: 'place-head' },
          h('span', { class: 'badge' }, String(i + 1)),
          h('strong', {}, p.unit),
          h('span', { class: 'expect' }, m.expected_counts ? `${num(p.score, 2)} expected events this shift` : `score ${num(p.score, 3)}`)),
        h('p', { class: 'why' }, why),
        todo ? h('p', { class: 'todo' }, h('strong', {}, 'What to do: '), todo) : null));
    });
    if (places.length === 0) list.append(h('li', {}, 'The forecast flags no place for this shift.'));

    if (nr) notices.append(nearRepeatNotice(nr));
    if (pr) {
      const conc = pr.meta.concentration.events;
      notices.append(h('div', { class: 'notice' }, h('strong', {}, 'Concentration: '),
        `in the last 28 days the top 5% of places held ${pct(conc.share_at_top_5pct, 0)} of events (Gini ${num(conc.gini)}).`));
    }

    // map: the places, numbered with HTML markers (no glyphs needed)
    markers.forEach((mk) => mk.remove());
    markers = [];
    setData(map, 'places', fc);
    // added from the last to the first, so that the first place's marker is on top
    [...places.entries()].reverse().forEach(([i, f]: [number, Feature<Geometry, api.ForecastProps>]) => {
      const c = centre(f.geometry);
      if (!c) return;
      const el = h('div', { class: 'marker', title: f.properties.unit }, String(i + 1));
      markers.push(new maplibregl.Marker({ element: el }).setLngLat(c).addTo(map));
    });
    const b = bounds(fc);
    if (b) map.fitBounds(b, { padding: 30, maxZoom: 14, animate: false });
  }

  await show();
  return () => {
    disposed = true;
    markers.forEach((mk) => mk.remove());
    map.remove();
  };
}

function nearRepeatNotice(nr: api.NearRepeat): HTMLElement {
  const cats = nr.categories.length ? nr.categories.map(label).join(', ') : 'events';
  const sig = nr.bands.filter((b) => b.p < 0.05 && (b.knox_ratio ?? 0) > 1.2 && b.space_band[0] > 0);
  const strongest = sig.sort((a, b) => (b.knox_ratio ?? 0) - (a.knox_ratio ?? 0))[0];
  const end = (v: number | 'inf') => (v === 'inf' ? '∞' : String(v));
  if (!strongest) {
    return h('div', { class: 'notice', id: 'near-repeat' }, h('strong', {}, 'Near repeats: '),
      `no significant near-repeat pattern for ${cats} in the last 90 days (${int(nr.events)} located events).`);
  }
  return h('div', { class: 'notice warn', id: 'near-repeat' }, h('strong', {}, 'Near repeats: '),
    `${cats} within ${strongest.space_band[0]}–${end(strongest.space_band[1])} m and ${strongest.time_band[0]}–${end(strongest.time_band[1])} days of another occurred `,
    `×${num(strongest.knox_ratio)} as often as chance would give (Knox test, ${pEq(strongest.p)}, last 90 days). `,
    'After a new one, warn the neighbours and patrol the nearby streets in the days that follow.');
}

