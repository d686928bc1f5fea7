#!/usr/bin/env node
// Regenerates web/fixtures/ from the real CLI on the demo store, so the mock serves
// what the server will serve (same JSON shapes, real St. Louis 2019 data; context layers
// and rates per 1,000 residents on the real Philadelphia tracts and Q4 2024 incidents).
//
//   STREETLIGHT_BIN=../target/release/streetlight STREETLIGHT_DB=../demo-out/streetlight.db \
//     node scripts/make-fixtures.mjs            # everything
//   ... node scripts/make-fixtures.mjs context   # only the Philadelphia context fixtures
//   ... node scripts/make-fixtures.mjs map       # only the analyst map's H3, KDE and emerging fixtures
//
// The store needs St. Louis (`make demo`) and, for the context fixtures, philadelphia-ppd
// with its `tracts` layer (the commands are in data/README.md).
//
// The store is copied to a temporary folder first and only read there.
// The `.geojson` fixtures follow web/API.md: the CLI's --geojson FeatureCollection with the
// --json object (minus its row array) as a foreign member `meta`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const bin = process.env.STREETLIGHT_BIN ?? join(repo, 'target/release/streetlight');
const srcDb = process.env.STREETLIGHT_DB ?? join(repo, 'demo-out/streetlight.db');
const dataset = 'stlouis-slmpd';
const out = join(here, '..', 'fixtures', dataset);
mkdirSync(out, { recursive: true });

const tmp = mkdtempSync(join(tmpdir(), 'sl-fixtures-'));
const db = join(tmp, 'streetlight.db');
copyFileSync(srcDb, db);
for (const ext of ['-wal', '-shm']) if (existsSync(srcDb + ext)) copyFileSync(srcDb + ext, db + ext);

function cli(args) {
  const command = args[0] === 'layer' ? 2 : 1; // `layer list`, `layer get` take --db after the verb
  const text = execFileSync(bin, [...args.slice(0, command), '--db', db, ...args.slice(command)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(text);
}
const D = ['--dataset', dataset];
const Y2019 = ['--from', '2019-01-01', '--to', '2020-01-01'];
const G250 = ['--cell-size', '250'];
const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
const write = (name, value, dir = out) => {
  const text = JSON.stringify(value) + '\n';
  writeFileSync(join(dir, name), text);
  console.log(`${name.padEnd(36)} ${(text.length / 1024).toFixed(1).padStart(8)} KiB`);
};
// 1e-6 degrees is about 0.1 m: plenty for 150-500 m cells and block-level points.
const round = (c) => (typeof c === 'number' ? Math.round(c * 1e6) / 1e6 : c.map(round));
const roundGeometry = (g) => ({ ...g, coordinates: round(g.coordinates) });
// Statistics keep 6 significant digits in the fixtures (the server sends full precision).
const sig6 = (p) => Object.fromEntries(Object.entries(p).map(([k, v]) =>
  [k, typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v]));

/** CLI --json object + its --geojson file -> FeatureCollection with `meta`. */
function spatial(args, rowsKey, keep = () => true, props = (p) => p) {
  const file = join(tmp, 'layer.geojson');
  const json = cli([...args, '--json', '--geojson', file]);
  const meta = { ...json };
  delete meta[rowsKey];
  const fc = readJson(file);
  const features = fc.features
    .filter((f) => keep(f.properties))
    .map((f) => ({ type: 'Feature', geometry: roundGeometry(f.geometry), properties: props(f.properties) }));
  return { type: 'FeatureCollection', meta, features };
}

if (process.argv.includes('context')) {
  contextFixtures();
  process.exit(0);
}
if (process.argv.includes('map')) {
  mapFixtures();
  process.exit(0);
}

// datasets: the St. Louis entry only, plus the period the server adds (API.md).
const quality = cli(['quality', ...D, '--json', '--show-rows', '12']);
const datasets = cli(['datasets', '--json']).filter((d) => d.name === dataset);
for (const d of datasets) {
  d.first_occurrence = quality.first_occurrence;
  d.last_occurrence = quality.last_occurrence;
  d.time_zone = quality.time_zone;
}
write('datasets.json', datasets, join(out, '..'));
write('quality.json', quality);
write('layers.json', cli(['layer', 'list', ...D, '--json']));

write('patterns.json', cli(['patterns', ...D, ...Y2019, '--json']));
write('patterns-residential_burglary.json',
  cli(['patterns', ...D, ...Y2019, '--category', 'residential_burglary', '--json']));

// The stored jurisdiction boundary: the profile's file, which ingest stores as is.
const boundary = readJson(join(repo, 'data/stlouis-slmpd/boundaries/stl_neighborhoods.geojson'));
write('boundary.geojson', {
  type: 'FeatureCollection',
  meta: { dataset, boundary_file: 'stl_neighborhoods.geojson', features: boundary.features.length },
  features: boundary.features.map((f) => ({ type: 'Feature', geometry: roundGeometry(f.geometry), properties: f.properties })),
});

// Events of December 2019 (UTC dates, as `export` takes them), minimal properties.
const evFile = join(tmp, 'events.geojson');
const exported = cli(['export', ...D, '--from', '2019-12-01', '--to', '2020-01-01', '-o', evFile, '--json']);
const ev = readJson(evFile);
const evFeatures = ev.features
  .filter((f) => f.geometry && !f.properties.retracted)
  .map((f) => ({
    type: 'Feature',
    geometry: roundGeometry(f.geometry),
    properties: {
      id: f.properties.id,
      category: f.properties.category,
      occurred_from: f.properties.occurred_from,
      occurred_to: f.properties.occurred_to,
      precision: f.properties.precision,
    },
  }));
write('events.geojson', {
  type: 'FeatureCollection',
  meta: {
    dataset, categories: [], from: '2019-12-01T00:00:00Z', to: '2020-01-01T00:00:00Z',
    matched: evFeatures.length, returned: evFeatures.length, limit: 20000, truncated: false,
    without_point: exported.without_point,
  },
  features: evFeatures,
});

// Grid counts: Gi* without permutations gives every cell's count; keep non-empty cells.
const agg = spatial(['hotspots', ...D, ...Y2019, ...G250, '--method', 'gistar', '--permutations', '0'], 'cells',
  (p) => p.count > 0, (p) => ({ unit: p.unit, row: p.row, col: p.col, count: p.count }));
delete agg.meta.method;
delete agg.meta.parameters;
write('aggregate.geojson', agg);

write('hotspots.geojson', spatial(['hotspots', ...D, ...Y2019, ...G250, '--method', 'gistar'], 'cells', () => true, sig6));

write('forecast.geojson', spatial(['forecast', ...D, ...G250, '--category', 'residential_burglary',
  '--model', 'retrospective', '--horizon-days', '7', '--coverage', '2'], 'top', (p) => p.flagged));
// Forecasts page map. Its default (retrospective, residential burglary, 250 m, 7 days, top
// 2%, flagged cells) is forecast.geojson above; the mock also answers `cells=all` (every
// cell), a 28-day horizon and an area budget of 5 km² (flagged cells, as the UI asks).
const FC = ['forecast', ...D, ...G250, '--category', 'residential_burglary', '--model', 'retrospective'];
write('forecast-all.geojson', spatial([...FC, '--horizon-days', '7', '--coverage', '2'], 'top', () => true, sig6));
write('forecast-h28.geojson', spatial([...FC, '--horizon-days', '28', '--coverage', '2'], 'top', (p) => p.flagged));
write('forecast-area-5km2.geojson', spatial([...FC, '--horizon-days', '7', '--area-budget', '5', '--area-unit', 'km2'],
  'top', (p) => p.flagged));
// Briefing's area choice: the codes of each level with events in 2019, as the groups of
// `patterns --group-by LEVEL`. Only each group's name and count are kept (all the UI reads
// of a grouped answer; the full one is 1.5 MB for St. Louis's 88 neighbourhoods).
for (const level of ['district', 'beat', 'neighbourhood']) {
  const p = cli(['patterns', ...D, ...Y2019, '--group-by', level, '--json']);
  p.groups = p.groups.map((g) => ({ group: g.group, events: g.events }));
  write(`patterns-group-${level}.json`, p);
}
// Briefing: the top 10 cells of each shift, and the priorities rows of those cells (the
// server answers `priorities.geojson?units=…` with any units' rows) plus the top 10.
const shiftUnits = new Set();
for (const [name, hours] of [['day', '07-15'], ['evening', '15-23'], ['night', '23-07']]) {
  const fc = spatial(['forecast', ...D, ...G250, '--model', 'retrospective',
    '--horizon-days', '1', '--top-cells', '10', '--shift', `${name}=${hours}`], 'top', (p) => p.flagged);
  fc.features.forEach((f) => shiftUnits.add(f.properties.unit));
  write(`forecast-shift-${name}.geojson`, fc);
}
write('priorities.geojson', spatial(['priorities', ...D, ...G250, '--from', '2019-12-04', '--to', '2020-01-01',
  '--top', '100000'], 'places', (p) => p.rank <= 10 || shiftUnits.has(p.unit)));
write('near-repeat.json', cli(['near-repeat', ...D, '--category', 'residential_burglary',
  '--from', '2019-10-01', '--to', '2020-01-01', '--json']));
write('backtest.json', cli(['backtest', ...D, ...G250, '--category', 'residential_burglary',
  '--models', 'naive,historical,retrospective,prospective,stkde', '--train-days', '180', '--horizon-days', '7',
  '--origins', '12', '--start', '2019-09-01', '--coverage', '0.5,1,2,3,5,7.5,10,15,20,30', '--json']));

mapFixtures();
contextFixtures();

/**
 * The analyst map's other units and layers (`npm run fixtures -- map` makes only these):
 * H3 resolution 9 hexagons for counts, Gi* and the forecast; kernel density on 250 m cells
 * (KDE needs grid cells); emerging hot spots by month on cells and on hexagons. St. Louis
 * 2019 like the others. To keep them small, the emerging fixtures leave out the units with
 * no pattern (the UI draws those transparent; `meta.parameters.patterns` still counts them)
 * and KDE keeps `unit`, `count` and `density` (6 significant digits).
 */
function mapFixtures() {
  const H9 = ['--hex', '9'];
  const hexAgg = spatial(['hotspots', ...D, ...Y2019, ...H9, '--method', 'gistar', '--permutations', '0'], 'cells',
    (p) => p.count > 0, (p) => ({ unit: p.unit, h3: p.h3, count: p.count }));
  delete hexAgg.meta.method;
  delete hexAgg.meta.parameters;
  write('aggregate-hex9.geojson', hexAgg);
  write('hotspots-hex9.geojson', spatial(['hotspots', ...D, ...Y2019, ...H9, '--method', 'gistar'], 'cells',
    () => true, sig6));
  write('forecast-hex9.geojson', spatial(['forecast', ...D, ...H9, '--category', 'residential_burglary',
    '--model', 'retrospective', '--horizon-days', '7', '--coverage', '2'], 'top', (p) => p.flagged));
  write('kde.geojson', spatial(['hotspots', ...D, ...Y2019, ...G250, '--method', 'kde'], 'cells', () => true,
    (p) => sig6({ unit: p.unit, count: p.count, density: p.density })));
  for (const [file, units] of [['emerging.geojson', G250], ['emerging-hex9.geojson', H9]]) {
    write(file, spatial(['hotspots', ...D, ...Y2019, ...units, '--method', 'emerging', '--step', 'month'], 'cells',
      (p) => p.pattern !== 'no_pattern', sig6));
  }
}

/**
 * Philadelphia, for the context layers: the dataset's entry (added to datasets.json), its
 * boundary, its layers, the tracts layer, rates per 1,000 residents over Q4 2024 and what
 * is near City Hall. Tract properties are cut to GEOID, NAMELSAD and total_pop, and
 * outlines simplified (Douglas–Peucker, 2e-5°, about 2 m) and rounded to 1e-5° to keep the
 * fixtures small; the numbers are the CLI's.
 */
function contextFixtures() {
  const name = 'philadelphia-ppd';
  const P = ['--dataset', name];
  const dir = join(out, '..', name);
  mkdirSync(dir, { recursive: true });
  const round5 = (c) => (typeof c === 'number' ? Math.round(c * 1e5) / 1e5 : c.map(round5));
  const simplify = (ring, tol = 2e-5) => {
    if (ring.length <= 4) return ring;
    const keep = new Array(ring.length).fill(false);
    keep[0] = keep[ring.length - 1] = true;
    const stack = [[0, ring.length - 1]];
    while (stack.length) {
      const [a, b] = stack.pop();
      const [ax, ay] = ring[a];
      const [bx, by] = ring[b];
      const len = Math.hypot(bx - ax, by - ay);
      let far = -1;
      let dmax = tol;
      for (let i = a + 1; i < b; i++) {
        const [px, py] = ring[i];
        const d = len === 0 ? Math.hypot(px - ax, py - ay) : Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / len;
        if (d > dmax) [dmax, far] = [d, i];
      }
      if (far >= 0) stack.push([a, far], [far, b]);
      for (const i of far >= 0 ? [far] : []) keep[i] = true;
    }
    const out = ring.filter((_, i) => keep[i]);
    return out.length >= 4 ? out : ring;
  };
  const polygons = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates);
  const geometry5 = (g) => {
    const simple = polygons(g).map((p) => p.map((r) => simplify(r)));
    return { type: g.type, coordinates: round5(g.type === 'Polygon' ? simple[0] : simple) };
  };
  const TRACT = ['GEOID', 'NAMELSAD', 'total_pop'];
  const pick = (p, keys) => Object.fromEntries(Object.entries(p).filter(([k]) => keys.includes(k)));

  const q = cli(['quality', ...P, '--json']);
  const entry = cli(['datasets', '--json']).find((d) => d.name === name);
  if (!entry) throw new Error(`the store has no ${name} dataset: load it as data/README.md says`);
  Object.assign(entry, { first_occurrence: q.first_occurrence, last_occurrence: q.last_occurrence, time_zone: q.time_zone });
  const listFile = join(out, '..', 'datasets.json');
  const list = readJson(listFile).filter((d) => d.name !== name);
  write('datasets.json', [...list, entry], join(out, '..'));

  const districts = readJson(join(repo, 'data/philadelphia-ppd/boundaries/police_districts.geojson'));
  write('boundary.geojson', {
    type: 'FeatureCollection',
    meta: { dataset: name, boundary_file: 'police_districts.geojson', features: districts.features.length },
    features: districts.features.map((f) => ({ type: 'Feature', geometry: geometry5(f.geometry), properties: f.properties })),
  }, dir);

  write('layers.json', cli(['layer', 'list', ...P, '--json']), dir);
  const layer = cli(['layer', 'get', ...P, '--name', 'tracts']);
  write('layer-tracts.geojson', {
    ...layer,
    features: layer.features.map((f) => ({ type: 'Feature', geometry: geometry5(f.geometry), properties: pick(f.properties, TRACT) })),
  }, dir);

  const file = join(tmp, 'rates.geojson');
  const rates = cli(['rates', ...P, '--layer', 'tracts', '--from', '2024-10-01', '--to', '2025-01-01', '--json', '--geojson', file]);
  const meta = { ...rates };
  delete meta.polygons;
  write('rates-tracts.geojson', {
    type: 'FeatureCollection',
    meta,
    features: readJson(file).features.map((f) => ({
      type: 'Feature',
      geometry: geometry5(f.geometry),
      properties: pick(f.properties, [...TRACT, 'feature', 'count', 'population', 'rate_per_1000']),
    })),
  }, dir);

  // City Hall; the mock answers every nearby query with this one.
  const near = cli(['nearby', ...P, '--lon', '-75.16352', '--lat', '39.95258', '--radius', '200', '--json']);
  for (const l of near.layers) if (l.nearest) l.nearest.properties = pick(l.nearest.properties, TRACT);
  write('nearby.json', near, dir);
}
