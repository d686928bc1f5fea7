#!/usr/bin/env node
// Browser end-to-end test: Debian's Chromium driven by playwright-core.
//
//   npm run build && npm run e2e                       # against the mock (dist/ + fixtures/)
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_USER=name E2E_PASSWORD=secret npm run e2e
//                                                      # against a running `streetlight serve`
//
// Steps: the login page, signing in, the analyst map drawn (canvas pixels checked), a layer
// toggled, a cell's explanation, the other pages, the shift briefing on a 390×844 phone, and
// context layers (Philadelphia's tracts, their rates per 1,000 residents, what is nearby),
// and an administrator's page: an account added, its role changed, disabled and enabled,
// the audit log read and its chain verified (E2E_ADMIN_USER and E2E_ADMIN_PASSWORD).
// It fails on any console error, page error, failed request or request to another origin.
// Screenshots go to web/e2e/artifacts/. The last line is "N passed, N failed".
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockServer } from '../scripts/mock-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const USER = process.env.E2E_USER ?? 'demo';
const PASSWORD = process.env.E2E_PASSWORD ?? 'demo';
const ADMIN = process.env.E2E_ADMIN_USER ?? 'admin';
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'admin';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 30000);

let mock = null;
let base = process.env.E2E_BASE_URL?.replace(/\/$/, '');
if (!base) {
  if (!existsSync(join(here, '..', 'dist', 'index.html'))) {
    console.error('error: web/dist is missing; run `npm run build` first');
    process.exit(1);
  }
  mock = await startMockServer({ port: 0 });
  base = mock.url;
}
const origin = new URL(base).origin;

const problems = []; // console errors, page errors, failed or foreign requests
function watch(page, tag) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The one expected error: the session probe (GET /api/auth/me) answers 401 when nobody is
    // signed in, and Chromium logs every 4xx response. Any other error fails the test.
    const url = msg.location()?.url ?? '';
    if (/status of 401/.test(msg.text()) && new URL(url, origin).pathname === '/api/auth/me') return;
    problems.push(`[${tag}] console error: ${msg.text()} (${url})`);
  });
  page.on('pageerror', (err) => problems.push(`[${tag}] page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`[${tag}] request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) {
      problems.push(`[${tag}] request to another origin: ${u}`);
    }
  });
}

const results = [];
async function step(name, fn) {
  if (results.some((r) => !r.ok)) {
    results.push({ name, ok: false, error: 'skipped: an earlier step failed' });
    console.log(`not ok - ${name} (skipped)`);
    return;
  }
  const before = problems.length;
  try {
    await fn();
    if (problems.length > before) throw new Error(problems.slice(before).join('\n  '));
    results.push({ name, ok: true });
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push({ name, ok: false, error: e.message });
    console.log(`not ok - ${name}\n  ${String(e.message).split('\n').join('\n  ')}`);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}

/** Share of an element's screenshot pixels that differ from the map background. */
async function inkShare(page, selector, background = [0xee, 0xf0, 0xee]) {
  const png = await page.locator(selector).screenshot();
  return page.evaluate(async ({ b64, bg }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let saturated = 0; // coloured data (counts, spots, forecast), not the grey/white boundaries
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const diff = Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]);
      if (diff > 24) {
        ink++;
        colours.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
        if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) saturated++;
      }
    }
    const n = d.length / 4;
    return { share: ink / n, saturated: saturated / n, colours: colours.size, width: c.width, height: c.height };
  }, { b64: png.toString('base64'), bg: background });
}

/** Waits until a map on the page has loaded its style, sources and tiles and stopped moving. */
async function mapIdle(page, id, sources) {
  await page.waitForFunction(({ id, sources }) => {
    const map = window.__streetlight?.maps?.[id];
    if (!map || !map.loaded() || map.isMoving()) return false;
    return sources.every((s) => map.getSource(s) && map.isSourceLoaded(s));
  }, { id, sources }, { timeout: TIMEOUT });
  // one more frame so the canvas shows what was just loaded
  await page.evaluate((id) => new Promise((r) => {
    const map = window.__streetlight.maps[id];
    map.triggerRepaint();
    map.once('render', () => requestAnimationFrame(() => r()));
  }), id);
}

/** Signs in on the login page until `ready` shows. An account an administrator made
 * (`streetlight user add`) first chooses its own password; the mock's accounts do not. */
async function signIn(page, user, password, ready, shot) {
  await page.fill('#login-name', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector(`${ready}, #password-form`);
  if (await page.$('#password-form')) {
    await page.screenshot({ path: join(artifacts, shot) });
    const chosen = `${password}-chosen-by-e2e`;
    await page.fill('#password-current', password);
    await page.fill('#password-new', chosen);
    await page.fill('#password-repeat', chosen);
    await page.click('#password-submit');
    await page.waitForSelector(ready);
  }
}

/** Clicks the centre of the first polygon that `layer` draws on map `id` (a flagged one
 * when `flagged`) and returns its unit; fails with `missing` when none is drawn. */
async function clickPolygon(page, id, layer, flagged, missing) {
  const target = await page.evaluate(({ id, layer, flagged }) => {
    const map = window.__streetlight.maps[id];
    const f = map.queryRenderedFeatures({ layers: [layer] })
      .find((x) => x.geometry.type === 'Polygon' && (!flagged || x.properties.flagged));
    if (!f) return null;
    const ring = f.geometry.coordinates[0].slice(0, -1);
    const pt = map.project([ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length]);
    const box = map.getCanvas().getBoundingClientRect();
    return { x: box.left + pt.x, y: box.top + pt.y, unit: f.properties.unit };
  }, { id, layer, flagged });
  expect(target, missing);
  await page.mouse.click(target.x, target.y);
  return target;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
let exitCode = 1;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  watch(page, 'desktop');

  await step('unauthenticated visit shows the login page', async () => {
    await page.goto(`${base}/#/map`);
    await page.waitForSelector('#login-form');
    expect(page.url().includes('#/login'), `expected the login route, got ${page.url()}`);
    await page.screenshot({ path: join(artifacts, '01-login.png') });
  });

  await step('signing in opens the analyst map', async () => {
    await signIn(page, USER, PASSWORD, '#map canvas', '01b-choose-password.png');
    expect(page.url().includes('#/map'), `expected the map route, got ${page.url()}`);
  });

  await step('the map canvas is drawn (not blank)', async () => {
    await page.waitForSelector('#legend .legend-item');
    await mapIdle(page, 'analyst', ['boundary', 'counts', 'forecast']);
    const ink = await inkShare(page, '#map');
    await page.screenshot({ path: join(artifacts, '02-map.png') });
    console.log(`  map: ${(ink.share * 100).toFixed(1)}% of ${ink.width}×${ink.height} pixels drawn, ${(ink.saturated * 100).toFixed(1)}% in data colours, ${ink.colours} colours`);
    expect(ink.share > 0.05 && ink.colours >= 4,
      `map looks blank: ${(ink.share * 100).toFixed(2)}% non-background pixels, ${ink.colours} colours`);
    expect(ink.saturated > 0.01, `no data drawn: ${(ink.saturated * 100).toFixed(2)}% of pixels in data colours`);
  });

  await step('toggling a layer shows and hides it', async () => {
    const vis = (layer) => page.evaluate((l) => window.__streetlight.maps.analyst.getLayoutProperty(l, 'visibility'), layer);
    expect((await vis('hotspots-fill')) === 'none', 'hot spots should start hidden');
    const before = await inkShare(page, '#map');
    await page.check('#layer-hotspots');
    await page.waitForFunction(() => document.querySelector('#legend')?.textContent?.includes('Gi* hot spots'));
    await mapIdle(page, 'analyst', ['hotspots']);
    expect((await vis('hotspots-fill')) === 'visible', 'hot spots layer not visible after the toggle');
    const after = await inkShare(page, '#map');
    await page.screenshot({ path: join(artifacts, '03-map-hotspots.png') });
    expect(Math.abs(after.share - before.share) > 0.001 || after.colours !== before.colours,
      'the canvas did not change when the hot spots layer was turned on');
    await page.uncheck('#layer-counts');
    expect((await vis('counts-fill')) === 'none', 'counts layer still visible after unticking it');
    await page.check('#layer-counts');
    await page.check('#layer-events');
    await page.waitForFunction(() => document.querySelector('#legend')?.textContent?.includes('located events'));
    await mapIdle(page, 'analyst', ['events']);
    expect((await vis('events-heat')) === 'visible', 'events heat map not visible after the toggle');
    await page.screenshot({ path: join(artifacts, '03b-map-events.png') });
    await page.uncheck('#layer-events');
  });

  await step('clicking a cell opens its explanation', async () => {
    const target = await clickPolygon(page, 'analyst', 'forecast-fill', false, 'no forecast cell is drawn on the map');
    await page.waitForSelector('#explanation:not([hidden])');
    const text = await page.textContent('#explanation');
    expect(text.includes(`Cell ${target.unit}`), `explanation is for another place: ${text.slice(0, 80)}`);
    expect(/Forecast: ranked \d+/.test(text), `explanation lacks the forecast rank: ${text}`);
    expect(/events? here from/.test(text), `explanation lacks the count: ${text}`);
    expect(/hot spot|cold spot/.test(text), `explanation lacks the Gi* verdict: ${text}`);
    await page.screenshot({ path: join(artifacts, '04-explanation.png') });
  });

  await step('analyst map: H3 hexagons, KDE, emerging hot spots, an area and the month slider', async () => {
    const legendHas = (text) => page.waitForFunction((t) => document.querySelector('#legend')?.textContent?.includes(t), text);
    const asked = [];
    const onRequest = (req) => {
      const u = new URL(req.url());
      if (u.pathname.startsWith('/api/datasets/')) asked.push(u);
    };
    page.on('request', onRequest);
    try {
      // Units: H3 resolution 9 hexagons.
      await page.selectOption('#f-cell-size', 'hex9');
      await page.click('#f-apply');
      await legendHas('Hexagon counts');
      await mapIdle(page, 'analyst', ['counts', 'forecast']);
      for (const what of ['aggregate.geojson', 'forecast.geojson']) {
        const u = asked.find((x) => x.pathname.endsWith(what));
        expect(u && u.searchParams.get('hex') === '9' && !u.searchParams.has('cell_size'), `${what} was not asked with hex=9: ${u}`);
      }
      const hexes = await page.evaluate(() => {
        const fs = window.__streetlight.maps.analyst.queryRenderedFeatures({ layers: ['counts-fill'] });
        return { n: fs.length, six: fs.filter((f) => f.geometry.type === 'Polygon' && f.geometry.coordinates[0].length === 7).length };
      });
      expect(hexes.n > 0 && hexes.six / hexes.n > 0.9, `counts are not drawn as hexagons (${hexes.six} of ${hexes.n} six-sided)`);
      const hexInk = await inkShare(page, '#map');
      expect(hexInk.saturated > 0.01, `hexagon map looks blank (${(hexInk.saturated * 100).toFixed(2)}% in data colours)`);
      await page.screenshot({ path: join(artifacts, '04b-map-hexagons.png') });
      await clickPolygon(page, 'analyst', 'counts-fill', false, 'no hexagon is drawn on the map');
      await page.waitForFunction(() => /^\s*Hexagon /.test(document.querySelector('#explanation:not([hidden]) h2')?.textContent ?? ''));
      const why = await page.textContent('#explanation');
      expect(/H3 hexagon \w+ \(resolution 9\)/.test(why), `the explanation does not name the hexagon: ${why}`);
      await page.click('#explanation button.close');

      // Kernel density.
      let before = await inkShare(page, '#map');
      await page.check('#layer-kde');
      await page.waitForSelector('#legend-kde');
      await mapIdle(page, 'analyst', ['kde']);
      const kdeLegend = await page.textContent('#legend-kde');
      expect(/bandwidth [\d,]+ m/.test(kdeLegend) && /events per km²/.test(kdeLegend) && /m cells/.test(kdeLegend),
        `KDE legend lacks bandwidth, density unit or cells: ${kdeLegend}`);
      let after = await inkShare(page, '#map');
      expect(Math.abs(after.share - before.share) > 0.001 || after.colours !== before.colours, 'the canvas did not change with KDE on');
      await page.screenshot({ path: join(artifacts, '04c-map-kde.png') });
      await page.uncheck('#layer-kde');

      // Emerging hot spots (the default period of 90 days holds 12 whole weeks).
      before = await inkShare(page, '#map');
      await page.check('#layer-emerging');
      await page.waitForSelector('#legend-emerging li[data-pattern]');
      await mapIdle(page, 'analyst', ['emerging']);
      const emLegend = await page.textContent('#legend-emerging');
      expect(/hot spot: \d/.test(emLegend) && /with no pattern/.test(emLegend), `emerging legend lacks the patterns: ${emLegend}`);
      after = await inkShare(page, '#map');
      expect(Math.abs(after.share - before.share) > 0.001 || after.colours !== before.colours, 'the canvas did not change with emerging hot spots on');
      const em = asked.find((x) => x.searchParams.get('method') === 'emerging');
      expect(em && ['week', 'month'].includes(em.searchParams.get('step')), `emerging asked without a step: ${em}`);
      await page.screenshot({ path: join(artifacts, '04d-map-emerging.png') });

      // An area: a district, sent with every selection request.
      await page.selectOption('#f-area-level', 'district');
      await page.waitForSelector('#f-area:not([hidden]):not([disabled]) option', { state: 'attached' });
      const code = (await page.locator('#f-area option').evaluateAll((os) => os.map((o) => o.value)))[0];
      expect(code, 'no district codes');
      await page.selectOption('#f-area', code);
      asked.length = 0;
      await page.click('#f-apply');
      await legendHas(`District ${code} only`);
      await mapIdle(page, 'analyst', ['counts', 'emerging', 'forecast']);
      for (const what of ['aggregate.geojson', 'hotspots.geojson', 'forecast.geojson']) {
        const u = asked.find((x) => x.pathname.endsWith(what));
        expect(u && u.searchParams.get('area') === `district=${code}`, `${what} was not asked for district ${code}: ${u}`);
      }
      expect(decodeURIComponent(page.url()).includes(`area=district=${code}`), `the route does not keep the area: ${page.url()}`);

      // The month slider: two months back sets from/to and reloads the layers.
      asked.length = 0;
      const fromBefore = await page.inputValue('#f-from');
      const want = await page.evaluate(() => {
        const r = document.querySelector('#f-slider');
        r.value = String(Number(r.max) - 2);
        r.dispatchEvent(new Event('input', { bubbles: true }));
        const i = Number(r.value) + 1;
        return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`;
      });
      await page.waitForFunction((w) => document.querySelector('#f-to')?.value === w, want);
      const from = await page.inputValue('#f-from');
      expect(from !== fromBefore && /-01$/.test(from), `from did not follow the slider: ${fromBefore} → ${from}`);
      // (requests already under way for the area finish first; then the new period's follow)
      const reloaded = (x) => x.pathname.endsWith('aggregate.geojson') && x.searchParams.get('from') === from;
      for (let i = 0; i < TIMEOUT / 100 && !asked.some(reloaded); i++) await page.waitForTimeout(100);
      await page.waitForFunction(() => !/Loading/.test(document.querySelector('#map-status')?.textContent ?? ''));
      await mapIdle(page, 'analyst', ['counts', 'emerging']);
      const agg = asked.find(reloaded);
      expect(agg && agg.searchParams.get('from') === from && agg.searchParams.get('to') === want,
        `the counts were not reloaded for ${from} – ${want}: ${agg}`);
      const emReloaded = (x) => x.searchParams.get('method') === 'emerging' && x.searchParams.get('from') === from;
      for (let i = 0; i < TIMEOUT / 100 && !asked.some(emReloaded); i++) await page.waitForTimeout(100);
      expect(asked.some(emReloaded),
        'emerging hot spots were not reloaded for the slider\'s period');
      await page.screenshot({ path: join(artifacts, '04e-map-area-slider.png') });
      await page.uncheck('#layer-emerging');
    } finally {
      page.off('request', onRequest);
    }
  });

  await step('patterns page draws the hour × weekday heat map and weekly trend', async () => {
    await page.click('nav a[data-page="patterns"]');
    await page.waitForSelector('#patterns svg.heat');
    const cells = await page.locator('#patterns svg.heat rect[data-row]').count();
    expect(cells === 7 * 24, `heat map has ${cells} cells, expected 168`);
    await page.waitForSelector('#trend-text');
    await page.screenshot({ path: join(artifacts, '05-patterns.png'), fullPage: true });
  });

  await step('forecasts page shows the leaderboard and PAI curves', async () => {
    await page.click('nav a[data-page="forecasts"]');
    await page.waitForSelector('#leaderboard tbody tr');
    const rows = await page.locator('#leaderboard tbody tr').count();
    const curves = await page.locator('#pai-curve path[data-series]').count();
    expect(rows >= 2, `leaderboard has ${rows} rows`);
    expect(curves === rows, `PAI chart has ${curves} curves for ${rows} models`);
    await page.screenshot({ path: join(artifacts, '06-forecasts.png'), fullPage: true });
  });

  await step('forecasts page maps the current forecast; horizon and budget change the legend', async () => {
    // still on the forecasts page from the step before
    const legend = () => page.textContent('#forecast-legend');
    await page.waitForSelector('#forecast-legend .legend-item');
    await mapIdle(page, 'forecast', ['boundary', 'forecast']);
    const ink = await inkShare(page, '#forecast-map');
    console.log(`  forecast map: ${(ink.share * 100).toFixed(1)}% drawn, ${(ink.saturated * 100).toFixed(2)}% in data colours`);
    expect(ink.share > 0.05 && ink.saturated > 0.002,
      `forecast map looks blank (${(ink.share * 100).toFixed(2)}% drawn, ${(ink.saturated * 100).toFixed(2)}% in data colours)`);
    const first = await legend();
    expect(/retrospective model/.test(first), `legend lacks the model: ${first}`);
    expect(/the 7 days from \d{4}-\d{2}-\d{2}/.test(first), `legend lacks horizon and origin: ${first}`);
    expect(/\d+ cells?, [\d.,]+ km²/.test(first), `legend lacks the flagged cells and area: ${first}`);
    await page.screenshot({ path: join(artifacts, '06b-forecast-map.png') });

    await page.selectOption('#fc-horizon', '28');
    await page.waitForFunction(() => /the 28 days from/.test(document.querySelector('#forecast-legend')?.textContent ?? ''));
    await page.selectOption('#fc-budget-kind', 'km2');
    await page.waitForFunction(() => /area budget asked: 5 km²/.test(document.querySelector('#forecast-legend')?.textContent ?? ''));
    const budgeted = await legend();
    expect(/\d+ cells?, [\d.,]+ km²/.test(budgeted), `legend lacks the flagged cells and area: ${budgeted}`);
    expect(page.url().includes('fc_area_km2=5') && page.url().includes('fc_horizon=28'), `the route does not keep the choice: ${page.url()}`);
    await mapIdle(page, 'forecast', ['forecast']);

    // every cell shaded by rank: the canvas gains colour
    const before = await inkShare(page, '#forecast-map');
    await page.check('#fc-all-cells');
    await page.waitForFunction(() => document.querySelector('#forecast-legend .legend-item[hidden]') === null);
    let after = before;
    // (the boundary's white is ink already: the shading shows as more pixels in data colours)
    for (let i = 0; i < 20 && after.saturated - before.saturated <= 0.001; i++) {
      await mapIdle(page, 'forecast', ['forecast']);
      after = await inkShare(page, '#forecast-map');
    }
    console.log(`  every cell shaded: ${(before.saturated * 100).toFixed(2)}% → ${(after.saturated * 100).toFixed(2)}% of pixels in data colours`);
    expect(after.saturated - before.saturated > 0.001,
      `shading every cell did not colour the canvas (${(before.saturated * 100).toFixed(2)}% → ${(after.saturated * 100).toFixed(2)}% in data colours)`);
    await page.screenshot({ path: join(artifacts, '06c-forecast-map-all.png') });

    // clicking a flagged cell gives its rank and score
    const target = await clickPolygon(page, 'forecast', 'forecast-fill', true, 'no flagged cell is drawn on the forecast map');
    await page.waitForSelector('#forecast-cell:not([hidden])');
    const text = await page.textContent('#forecast-cell');
    expect(text.includes(`Cell ${target.unit}`), `cell panel is for another place: ${text.slice(0, 80)}`);
    expect(/Ranked [\d,]+ of [\d,]+/.test(text) && /Score/.test(text), `cell panel lacks rank or score: ${text}`);
    await page.screenshot({ path: join(artifacts, '06d-forecast-cell.png') });
  });

  await step('the shift briefing takes an area (a district)', async () => {
    await page.click('nav a[data-page="briefing"]');
    await page.waitForSelector('#places li.place');
    await page.selectOption('#b-area-level', 'district');
    await page.waitForSelector('#b-area:not([hidden]):not([disabled]) option', { state: 'attached' });
    const codes = await page.locator('#b-area option').evaluateAll((os) => os.map((o) => o.value));
    expect(codes.length >= 2 && codes.every((c) => c && c !== '(none)'), `district codes: ${codes.join(', ')}`);
    const code = codes[0];
    await page.selectOption('#b-area', code);
    const asked = new Set();
    const onRequest = (req) => {
      const u = new URL(req.url());
      if (u.searchParams.get('area') === `district=${code}`) asked.add(u.pathname.split('/').pop());
    };
    page.on('request', onRequest);
    await page.click('#briefing-form button[type=submit]');
    await page.waitForFunction((c) => document.querySelector('#briefing-area')?.textContent?.includes(`District ${c}`), code);
    await page.waitForSelector('#places li.place, #places li');
    page.off('request', onRequest);
    for (const what of ['forecast.geojson', 'priorities.geojson', 'near-repeat']) {
      expect(asked.has(what), `${what} was not asked for district ${code} (asked: ${[...asked].join(', ')})`);
    }
    expect(decodeURIComponent(page.url()).includes(`area=district=${code}`), `the route does not keep the area: ${page.url()}`);
    await page.screenshot({ path: join(artifacts, '06e-briefing-district.png'), fullPage: true });
  });

  await step('data quality page shows the report', async () => {
    await page.click('nav a[data-page="quality"]');
    await page.waitForSelector('#quality table#by-year');
    await page.screenshot({ path: join(artifacts, '07-quality.png'), fullPage: true });
  });

  await step('shift briefing on a phone (390×844)', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      storageState: await context.storageState(),
    });
    phone.setDefaultTimeout(TIMEOUT);
    const p = await phone.newPage();
    watch(p, 'phone');
    await p.goto(`${base}/#/briefing?shift=night`);
    await p.waitForSelector('#places li.place');
    await mapIdle(p, 'briefing', ['places']);
    const places = await p.locator('#places li.place').count();
    expect(places >= 1, 'no places listed');
    const whys = await p.locator('#places li.place p.why').allTextContents();
    expect(whys.every((w) => w.length > 20), 'a place has no reason given');
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    const ink = await inkShare(p, '#briefing-map');
    expect(ink.share > 0.01 && ink.saturated > 0.002, `briefing map looks blank (${(ink.share * 100).toFixed(2)}% drawn, ${(ink.saturated * 100).toFixed(2)}% in data colours)`);
    const markers = await p.locator('#briefing-map .marker').count();
    expect(markers === places, `${markers} map markers for ${places} places`);
    await p.screenshot({ path: join(artifacts, '08-briefing-phone.png') });
    await p.screenshot({ path: join(artifacts, '09-briefing-phone-full.png'), fullPage: true });
    await phone.close();
  });

  await step('context layers: tract outlines, rates per 1,000 residents and what is nearby', async () => {
    const map = () => page.evaluate(() => !!window.__streetlight?.maps?.analyst);
    const vis = (layer) => page.evaluate((l) => {
      const m = window.__streetlight.maps.analyst;
      return m.getLayer(l) ? m.getLayoutProperty(l, 'visibility') ?? 'visible' : 'absent';
    }, layer);
    const datasets = await page.locator('#dataset option').allTextContents();
    expect(datasets.includes('philadelphia-ppd'),
      `no philadelphia-ppd dataset (have ${datasets.join(', ')}): load it and its tracts layer as data/README.md says`);
    // St. Louis has no context layers: the panel says how to add them. The period is the
    // Philadelphia extract's (Q4 2024), kept when the dataset changes.
    await page.evaluate(() => { location.hash = '#/map?layers=boundary&from=2024-10-01&to=2025-01-01'; });
    await page.waitForSelector('#context-layers #ctx-none');
    await mapIdle(page, 'analyst', ['boundary']);
    // Philadelphia has census tracts with population.
    await page.selectOption('#dataset', 'philadelphia-ppd');
    await page.waitForSelector('#ctx-tracts');
    expect(await map(), 'no analyst map');
    await mapIdle(page, 'analyst', ['boundary']);
    const before = await inkShare(page, '#map');
    await page.check('#ctx-tracts');
    await page.waitForFunction(() => document.querySelector('#legend')?.textContent?.includes('408 polygons'));
    await mapIdle(page, 'analyst', ['ctx-tracts-source']);
    expect((await vis('ctx-tracts-outline')) === 'visible', 'tract outlines not visible after the toggle');
    const outlines = await inkShare(page, '#map');
    expect(Math.abs(outlines.share - before.share) > 0.001, 'the canvas did not change when the tracts were turned on');
    await page.screenshot({ path: join(artifacts, '10-context-tracts.png') });

    await page.check('#ctx-rate-tracts');
    await page.waitForSelector('#legend-rate-tracts');
    await mapIdle(page, 'analyst', ['ctx-rate-tracts-source']);
    expect((await vis('ctx-rate-tracts-fill')) === 'visible', 'rate choropleth not visible after the toggle');
    const legend = await page.textContent('#legend-rate-tracts');
    expect(/per 1,000 overall/.test(legend) && /1,581,531 residents/.test(legend), `rate legend lacks the totals: ${legend}`);
    const choropleth = await inkShare(page, '#map');
    expect(choropleth.saturated > outlines.saturated + 0.05,
      `the choropleth added few coloured pixels (${(outlines.saturated * 100).toFixed(1)}% → ${(choropleth.saturated * 100).toFixed(1)}%)`);
    await page.screenshot({ path: join(artifacts, '11-context-rates.png') });

    // Clicking a tract explains its rate and what is near the place (City Hall).
    const at = await page.evaluate(() => window.__streetlight.maps.analyst.project([-75.16352, 39.95258]));
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await page.waitForSelector('#explanation:not([hidden]) #nearby');
    const text = await page.textContent('#explanation');
    expect(/per 1,000 residents/.test(text), `explanation lacks the tract's rate: ${text}`);
    expect(/Nearby \(within 200 m\)/.test(text) && /tracts: in Census Tract 5: \d[\d,]* events, 2,826 residents/.test(text),
      `explanation lacks what is nearby: ${text}`);
    await page.screenshot({ path: join(artifacts, '12-context-nearby.png') });

    await page.uncheck('#ctx-rate-tracts');
    expect((await vis('ctx-rate-tracts-fill')) === 'none', 'rate choropleth still visible after unticking it');
    await page.selectOption('#dataset', 'stlouis-slmpd');
    await page.waitForSelector('#context-layers #ctx-none');

    // An analyst uploads a layer from the browser (three points near downtown St. Louis),
    // sees it listed and drawn, and removes it again so the store is as it was.
    const name = `e2e_points_${Date.now() % 100000}`;
    const points = {
      type: 'FeatureCollection',
      features: [[-90.1994, 38.6270], [-90.2050, 38.6300], [-90.1900, 38.6250]].map((c, i) => ({
        type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { name: `stop ${i + 1}` },
      })),
    };
    await page.click('#context-layers summary');
    await page.fill('#ctx-upload-name', name);
    await page.setInputFiles('#ctx-upload-file', {
      name: 'stops.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(points)),
    });
    await page.click('#ctx-upload-submit');
    await page.waitForSelector(`#ctx-${name}`);
    expect(!(await page.$('#context-layers #ctx-none')), 'the "none yet" note stayed after an upload');
    await page.check(`#ctx-${name}`);
    await mapIdle(page, 'analyst', [`ctx-${name}-source`]);
    expect((await vis(`ctx-${name}-circle`)) === 'visible', 'the uploaded points are not drawn');
    await page.screenshot({ path: join(artifacts, '13-context-upload.png') });
    const removed = await page.evaluate((n) => fetch(`/api/datasets/stlouis-slmpd/layers/${n}`,
      { method: 'DELETE', credentials: 'same-origin' }).then((r) => r.status), name);
    expect(removed === 204, `removing the uploaded layer answered ${removed}`);
  });

  await step('signing out returns to the login page', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-form');
  });

  await context.close();

  await step('an administrator adds an account, changes it, and verifies the audit log', async () => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    adminContext.setDefaultTimeout(TIMEOUT);
    const admin = await adminContext.newPage();
    watch(admin, 'admin');
    admin.on('dialog', (d) => void d.accept());
    try {
      await admin.goto(`${base}/#/admin`);
      await admin.waitForSelector('#login-form');
      await signIn(admin, ADMIN, ADMIN_PASSWORD, '#page', '14a-admin-password.png');
      await admin.click('a[data-page="admin"]');
      await admin.waitForSelector('#accounts-table');
      const account = `e2e-viewer-${Date.now() % 1000000}`;
      await admin.fill('#account-name', account);
      await admin.selectOption('#account-role', 'viewer');
      await admin.click('#account-add-submit');
      await admin.waitForSelector(`#accounts-table tr[data-account="${account}"]`);
      const temporary = (await admin.textContent('#temporary-password'))?.trim() ?? '';
      expect(temporary.length >= 12, `no temporary password shown: "${temporary}"`);
      const stateOf = () => admin.textContent(`#accounts-table tr[data-account="${account}"] .account-state`);
      expect(/must choose a password/.test(await stateOf()), `a new account should have to choose a password: ${await stateOf()}`);

      await admin.selectOption(`select[data-role-of="${account}"]`, 'supervisor');
      await admin.waitForFunction((a) => document.querySelector(`#audit-table`)?.textContent?.includes(`user:${a} role:viewer->supervisor`) ||
        document.querySelector('#admin-notice')?.textContent?.includes('is now supervisor'), account);
      await admin.click(`button[data-action="disable"][data-account="${account}"]`);
      await admin.waitForFunction((a) => /disabled/.test(document.querySelector(`#accounts-table tr[data-account="${a}"] .account-state`)?.textContent ?? ''), account);
      await admin.click(`button[data-action="enable"][data-account="${account}"]`);
      await admin.waitForFunction((a) => !/disabled/.test(document.querySelector(`#accounts-table tr[data-account="${a}"] .account-state`)?.textContent ?? 'disabled'), account);
      const role = await admin.inputValue(`select[data-role-of="${account}"]`);
      expect(role === 'supervisor', `the role shows ${role} after the change`);

      const log = await admin.textContent('#audit-table');
      for (const action of ['user.add', 'user.role', 'user.disable', 'user.enable']) {
        expect(log.includes(action), `the audit log lacks ${action}`);
      }
      await admin.click('#audit-verify');
      await admin.waitForSelector('#audit-verify-result.ok');
      const verdict = await admin.textContent('#audit-verify-result');
      expect(/^Intact: [\d,]+ records/.test(verdict), `chain check: ${verdict}`);
      await admin.screenshot({ path: join(artifacts, '14-admin.png'), fullPage: true });
      console.log(`  admin: added ${account}; ${verdict.split('.')[0]}`);
    } finally {
      await adminContext.close();
    }
  });

  const failed = results.filter((r) => !r.ok).length;
  console.log(`screenshots: ${artifacts}`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  exitCode = failed === 0 ? 0 : 1;
} finally {
  await browser.close();
  if (mock) await mock.close();
}
process.exit(exitCode);
