#!/usr/bin/env node
// A tiny static + API server for development and the browser tests: serves web/dist/ and
// answers /api/* from web/fixtures/ with the shapes of web/API.md. No dependencies.
//
//   npm run build && npm run mock            # http://127.0.0.1:8090, sign in as demo / demo
//                                            # (an analyst) or admin / admin
//   PORT=9000 npm run mock
//
// What it does not do: it ignores most query parameters (the fixtures are one selection:
// St. Louis 2019, 250 m cells). Exceptions, so filters visibly work: events.geojson applies
// category, from, to and limit; patterns picks a per-category fixture when there is one;
// forecast.geojson answers a `shift` with that shift's fixture; rates.geojson picks the
// layer's fixture; `hex=9` and `method=kde|emerging` pick the analyst map's fixtures.
// Philadelphia has only its boundary and context-layer fixtures (tracts,
// rates per 1,000 residents over Q4 2024, nearby City Hall); other files answer 404.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The Content-Security-Policy the real server should send too (API.md): nothing but 'self'. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const USERS = {
  demo: { password: 'demo', user: { name: 'demo', role: 'analyst' } },
  admin: { password: 'admin', user: { name: 'admin', role: 'admin' } },
};

export async function startMockServer({
  port = 8090,
  host = '127.0.0.1',
  dist = join(here, '..', 'dist'),
  fixtures = join(here, '..', 'fixtures'),
  log = false,
} = {}) {
  const sessions = new Map();
  const cache = new Map();

  async function fixture(dataset, file) {
    const path = join(fixtures, dataset, file);
    if (!existsSync(path)) {
      throw Object.assign(new Error(`the mock has no fixture ${file} for ${dataset || 'the datasets'} (web/fixtures/)`), {
        status: 404, code: 'not_found',
      });
    }
    if (!cache.has(path)) cache.set(path, JSON.parse(await readFile(path, 'utf8')));
    return cache.get(path);
  }

  function send(res, status, body, type = 'application/json') {
    const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...securityHeaders() });
    res.end(data);
  }
  const securityHeaders = () => ({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  const error = (res, status, code, message) => send(res, status, { error: { code, message } });

  function sessionOf(req) {
    const m = /(?:^|;\s*)sl_session=([^;]+)/.exec(req.headers.cookie ?? '');
    return m ? sessions.get(m[1]) : undefined;
  }

  async function readBody(req) {
    let size = 0;
    const chunks = [];
    for await (const c of req) {
      size += c.length;
      if (size > 64 * 1024) throw Object.assign(new Error('body too large'), { status: 413 });
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Accounts as the admin page sees them, and an audit log of their changes: in memory,
   * with the shapes of the real server (API.md); no hash chain, so verify always passes. */
  const accounts = new Map(Object.values(USERS).map(({ user }) => [user.name, {
    ...user, created_ms: Date.parse('2026-11-01T09:00:00Z'), locked: false, disabled: false, must_change_password: false,
  }]));
  const audit = [];
  function record(actor, action, object, outcome = 'ok') {
    audit.push({ id: audit.length + 1, ts_ms: Date.now(), actor, action, object, outcome, source: '127.0.0.1',
      prev_hash: '', hash: randomBytes(32).toString('hex') });
  }
  async function admin(req, res, path, user) {
    if (user.role !== 'admin') return error(res, 403, 'forbidden', `the ${user.role} role may not do this: ask an administrator`);
    if (req.method === 'GET' && path === '/api/admin/users') return send(res, 200, [...accounts.values()]);
    if (req.method === 'GET' && path === '/api/admin/audit') return send(res, 200, audit.slice(-100));
    if (req.method === 'GET' && path === '/api/admin/audit/verify') {
      return send(res, 200, { ok: true, records: audit.length, head: audit.length ? `${audit.length}:${audit.at(-1).hash}` : null, problems: [] });
    }
    if (req.method !== 'POST') return error(res, 405, 'method_not_allowed', 'use POST');
    let body = {};
    try {
      body = JSON.parse((await readBody(req)) || '{}');
    } catch {
      return error(res, 400, 'bad_request', 'expected JSON');
    }
    const temporary = () => randomBytes(12).toString('base64url');
    if (path === '/api/admin/users') {
      const name = String(body.name ?? '').toLowerCase();
      if (!/^[a-z0-9._-]{1,64}$/.test(name)) return error(res, 400, 'bad_request', `invalid account name \`${body.name}\``);
      if (accounts.has(name)) return error(res, 400, 'bad_request', `an account named \`${name}\` already exists`);
      const row = { name, role: body.role, created_ms: Date.now(), locked: false, disabled: false, must_change_password: true };
      accounts.set(name, row);
      record(user.name, 'user.add', `user:${name} role:${body.role}`);
      return send(res, 201, { user: row, temporary_password: temporary() });
    }
    const m = /^\/api\/admin\/users\/([^/]+)\/(role|password|unlock|disable|enable)$/.exec(path);
    const row = m && accounts.get(decodeURIComponent(m[1]));
    if (!row) return error(res, 404, 'not_found', `no account \`${m ? decodeURIComponent(m[1]) : ''}\``);
    const admins = [...accounts.values()].filter((a) => a.role === 'admin' && !a.disabled).length;
    if ((m[2] === 'disable' || (m[2] === 'role' && body.role !== 'admin')) && row.role === 'admin' && admins === 1) {
      record(user.name, `user.${m[2]}`, `user:${row.name}`, 'refused');
      return error(res, 403, 'forbidden', `${row.name} is the last enabled admin`);
    }
    if (m[2] === 'role') row.role = body.role;
    if (m[2] === 'unlock') row.locked = false;
    if (m[2] === 'disable') row.disabled = true;
    if (m[2] === 'enable') row.disabled = false;
    record(user.name, `user.${m[2]}`, `user:${row.name}`);
    if (m[2] === 'password') {
      row.must_change_password = true;
      return send(res, 200, { user: row, temporary_password: temporary() });
    }
    return send(res, 200, row);
  }

  /** Layers uploaded to this mock: "dataset/name" → {info, fc}. */
  const uploaded = new Map();

  async function api(req, res, url) {
    const path = url.pathname;
    const q = url.searchParams;
    if (path === '/api/auth/login') {
      if (req.method !== 'POST') return error(res, 405, 'method_not_allowed', 'use POST');
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return error(res, 400, 'invalid_body', 'expected JSON {"name", "password"}');
      }
      const account = USERS[body?.name];
      if (!account || account.password !== body?.password) {
        return error(res, 401, 'invalid_credentials', 'name or password is wrong');
      }
      const token = randomBytes(16).toString('hex');
      sessions.set(token, account.user);
      res.setHeader('Set-Cookie', `sl_session=${token}; Path=/; HttpOnly; SameSite=Strict`);
      return send(res, 200, account.user);
    }
    if (path === '/api/auth/logout') {
      if (req.method !== 'POST') return error(res, 405, 'method_not_allowed', 'use POST');
      const m = /(?:^|;\s*)sl_session=([^;]+)/.exec(req.headers.cookie ?? '');
      if (m) sessions.delete(m[1]);
      res.setHeader('Set-Cookie', 'sl_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
      res.writeHead(204, securityHeaders());
      return res.end();
    }
    const user = sessionOf(req);
    if (!user) return error(res, 401, 'unauthenticated', 'sign in first');
    if (path.startsWith('/api/admin/')) return admin(req, res, path, user);
    const upload = /^\/api\/datasets\/([^/]+)\/layers\/([A-Za-z0-9_-]+)$/.exec(path);
    if (upload && req.method === 'POST') {
      // Kept in memory for this mock's life: listed by `layers`, served by `layers/NAME.geojson`.
      let fc;
      try {
        fc = JSON.parse(await readBody(req));
      } catch {
        return error(res, 400, 'bad_request', 'the body is not GeoJSON');
      }
      const feats = Array.isArray(fc?.features) ? fc.features : [];
      if (feats.length === 0) return error(res, 400, 'bad_request', 'the layer has no features');
      const type = feats[0].geometry?.type ?? '';
      const kind = /Point/.test(type) ? 'points' : /LineString/.test(type) ? 'lines' : 'polygons';
      const info = {
        name: upload[2], kind, features: feats.length, file_name: q.get('file_name') ?? `${upload[2]}.geojson`,
        sha256: '', uploaded_at: new Date().toISOString(), population_field: q.get('population_field') || null,
      };
      uploaded.set(`${decodeURIComponent(upload[1])}/${upload[2]}`, { info, fc });
      return send(res, 200, { ...info, replaced: false, without_geometry: 0 });
    }
    if (upload && req.method === 'DELETE') {
      if (!uploaded.delete(`${decodeURIComponent(upload[1])}/${upload[2]}`)) return error(res, 404, 'not_found', 'no such layer');
      res.writeHead(204, securityHeaders());
      return res.end();
    }
    if (req.method !== 'GET') return error(res, 405, 'method_not_allowed', 'use GET');
    if (path === '/api/auth/me') return send(res, 200, user);
    if (path === '/api/datasets') {
      return send(res, 200, await fixture('', 'datasets.json'));
    }
    const layer = /^\/api\/datasets\/([^/]+)\/layers\/([A-Za-z0-9_-]+)\.geojson$/.exec(path);
    const mine = layer && uploaded.get(`${decodeURIComponent(layer[1])}/${layer[2]}`);
    if (mine) return send(res, 200, { ...mine.fc, meta: { ...mine.info, dataset: decodeURIComponent(layer[1]) } }, 'application/geo+json');
    if (layer) return send(res, 200, await fixture(decodeURIComponent(layer[1]), `layer-${layer[2]}.geojson`), 'application/geo+json');
    const m = /^\/api\/datasets\/([^/]+)\/([a-z.-]+)$/.exec(path);
    if (!m) return error(res, 404, 'not_found', `no endpoint ${path}`);
    const name = decodeURIComponent(m[1]);
    const what = m[2];
    if (!existsSync(join(fixtures, name))) return error(res, 404, 'dataset_not_found', `no dataset named ${name}`);
    const geo = 'application/geo+json';
    switch (what) {
      case 'quality':
      case 'near-repeat':
      case 'backtest':
        return send(res, 200, await fixture(name, `${what}.json`));
      case 'patterns': {
        const grouped = groupedPatternsFile(join(fixtures, name), q);
        if (grouped) return send(res, 200, await fixture(name, grouped));
        const cat = q.get('category');
        const file = cat && existsSync(join(fixtures, name, `patterns-${cat}.json`)) ? `patterns-${cat}.json` : 'patterns.json';
        return send(res, 200, await fixture(name, file));
      }
      case 'boundary.geojson':
        return send(res, 200, await fixture(name, what), geo);
      case 'aggregate.geojson':
      case 'hotspots.geojson':
        return send(res, 200, await fixture(name, mapLayerFile(join(fixtures, name), what, q)), geo);
      case 'priorities.geojson': {
        const fc = await fixture(name, what);
        const units = (q.get('units') ?? '').split(',').filter(Boolean);
        const top = Number(q.get('top') ?? 20) || 20;
        const keep = units.length ? (p) => units.includes(p.unit) : (p) => p.rank <= top;
        return send(res, 200, { ...fc, features: fc.features.filter((f) => keep(f.properties)) }, geo);
      }
      case 'forecast.geojson': {
        const shift = (q.get('shift') ?? '').split('=')[0];
        const file = shift && existsSync(join(fixtures, name, `forecast-shift-${shift}.geojson`))
          ? `forecast-shift-${shift}.geojson`
          : q.get('hex') && existsSync(join(fixtures, name, `forecast-hex${q.get('hex')}.geojson`))
            ? `forecast-hex${q.get('hex')}.geojson` : forecastFile(join(fixtures, name), q);
        return send(res, 200, flaggedOnly(await fixture(name, file), q), geo);
      }
      case 'events.geojson':
        return send(res, 200, filterEvents(await fixture(name, 'events.geojson'), q), geo);
      case 'layers': {
        const listed = existsSync(join(fixtures, name, 'layers.json')) ? await fixture(name, 'layers.json') : [];
        const mine = [...uploaded.entries()].filter(([k]) => k.startsWith(`${name}/`)).map(([, v]) => v.info);
        return send(res, 200, [...listed.filter((l) => !mine.some((m) => m.name === l.name)), ...mine]);
      }
      case 'rates.geojson': {
        const layerName = q.get('layer') ?? '';
        if (!/^[A-Za-z0-9_-]+$/.test(layerName)) return error(res, 400, 'bad_request', 'layer is required');
        return send(res, 200, await fixture(name, `rates-${layerName}.geojson`), geo);
      }
      case 'nearby':
        return send(res, 200, await fixture(name, 'nearby.json'));
      default:
        return error(res, 404, 'not_found', `no endpoint ${path}`);
    }
  }

  async function file(req, res, url) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(res, 405, 'method_not_allowed', 'use GET');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const full = resolve(dist, normalize(rel));
    if (!full.startsWith(resolve(dist) + sep)) return error(res, 404, 'not_found', 'not found');
    try {
      const st = await stat(full);
      if (!st.isFile()) throw new Error('not a file');
      const type = TYPES[extname(full)] ?? 'application/octet-stream';
      return send(res, 200, await readFile(full), type);
    } catch {
      return error(res, 404, 'not_found', `no file ${url.pathname}`);
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (log) console.log(`${req.method} ${url.pathname}${url.search}`);
    try {
      if (url.pathname.startsWith('/api/')) await api(req, res, url);
      else await file(req, res, url);
    } catch (e) {
      if (!res.headersSent) error(res, e.status ?? 500, e.code ?? (e.status ? 'invalid_request' : 'internal'), String(e.message ?? e));
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const address = server.address();
  return { server, url: `http://${host}:${address.port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The events fixture filtered as the API does: category (comma list), from/to (dates), limit. */
function filterEvents(fc, q) {
  const cats = (q.get('category') ?? '').split(',').filter(Boolean);
  // The mock compares UTC dates; the server uses the dataset's local days (API.md).
  const from = q.get('from') ? `${q.get('from')}T00:00:00Z` : null;
  const to = q.get('to') ? `${q.get('to')}T00:00:00Z` : null;
  const limit = Math.min(Number(q.get('limit') ?? 20000) || 20000, 100000);
  const matched = fc.features.filter((f) => {
    const p = f.properties;
    return (cats.length === 0 || cats.includes(p.category)) && (!from || p.occurred_from >= from) && (!to || p.occurred_from < to);
  });
  const features = matched.slice(0, limit);
  return {
    type: 'FeatureCollection',
    meta: {
      ...fc.meta, categories: cats, from: from ?? fc.meta.from, to: to ?? fc.meta.to,
      matched: matched.length, returned: features.length, limit, truncated: matched.length > limit,
    },
    features,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8090);
  if (!existsSync(join(here, '..', 'dist', 'index.html'))) {
    console.error('error: web/dist is missing; run `npm run build` first');
    process.exit(1);
  }
  const { url } = await startMockServer({ port, log: process.env.LOG === '1' });
  console.log(`mock server on ${url} (sign in as demo / demo); Ctrl-C stops it`);
}

// ---- the forecasts page's map and the briefing's area choice ----

/** `forecast.geojson`'s fixture for a request: `forecast-all` for `cells=all`, else
 * `forecast-area-{N}{unit}` for `area_budget`, else `forecast-h{N}` for a horizon other
 * than 7 days, when such a file exists; otherwise the default `forecast.geojson`. */
function forecastFile(dir, q) {
  const variants = [];
  if (q.get('cells') === 'all') variants.push('all');
  if (q.get('area_budget')) variants.push(`area-${q.get('area_budget')}${q.get('area_unit') || 'sqmi'}`);
  if (q.get('horizon_days') && q.get('horizon_days') !== '7') variants.push(`h${q.get('horizon_days')}`);
  const file = variants.map((v) => `forecast-${v}.geojson`).find((f) => existsSync(join(dir, f)));
  return file ?? 'forecast.geojson';
}

/** `cells=flagged` (what the UI sends unless it shades every cell): the flagged rows only. */
function flaggedOnly(fc, q) {
  if (q.get('cells') === 'all' || fc.features.every((f) => f.properties.flagged)) return fc;
  return { ...fc, features: fc.features.filter((f) => f.properties.flagged) };
}

/** `patterns?group_by=LEVEL` answers `patterns-group-LEVEL.json` (the groups' names and
 * counts only) when there is one. */
function groupedPatternsFile(dir, q) {
  const level = q.get('group_by');
  const file = level ? `patterns-group-${level}.json` : null;
  return file && existsSync(join(dir, file)) ? file : null;
}

// ---- the analyst map's units and layers ----

/** `aggregate.geojson` and `hotspots.geojson` by units and method: `hex=N` picks the
 * `-hexN` fixture when there is one; `method=kde` answers `kde.geojson` (250 m cells) and
 * `method=emerging` answers `emerging.geojson` (or `emerging-hexN.geojson`). */
function mapLayerFile(dir, what, q) {
  const base = what.replace(/\.geojson$/, '');
  const method = q.get('method') ?? 'gistar';
  const stem = base === 'hotspots' && method !== 'gistar' ? method : base;
  const hex = q.get('hex');
  if (hex && existsSync(join(dir, `${stem}-hex${hex}.geojson`))) return `${stem}-hex${hex}.geojson`;
  return `${stem}.geojson`;
}
