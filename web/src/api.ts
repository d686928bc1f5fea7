// The JSON API the UI reads (web/API.md is the contract; field names follow docs/CLI.md).
// Only the fields the UI uses are typed; the server may send more.

import type { FeatureCollection, Geometry } from 'geojson';

export interface User {
  name: string;
  role: 'admin' | 'analyst' | 'supervisor' | 'viewer';
  /** The password was set by an administrator: the user must choose their own first. */
  must_change_password?: boolean;
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Called when any request other than the login itself answers 401. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(f: () => void): void {
  onUnauthenticated = f;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function request<T>(path: string, init: RequestInit = {}, opts: { probe?: boolean } = {}): Promise<T> {
  const res = await fetch(path, {
    credentials: 'same-origin',
    ...init,
    headers: { Accept: 'application/json', ...(init.headers ?? {}) },
  });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `request failed with status ${res.status}`;
    try {
      const body = (await res.json()) as Partial<ApiErrorBody>;
      if (body.error) {
        code = body.error.code;
        message = body.error.message;
      }
    } catch {
      // not JSON: keep the status line
    }
    if (res.status === 401 && !opts.probe) onUnauthenticated();
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const ds = (name: string) => `/api/datasets/${encodeURIComponent(name)}`;

// ---- auth -----------------------------------------------------------------------------

export function login(name: string, password: string): Promise<User> {
  return request<User>(
    '/api/auth/login',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, password }) },
    { probe: true },
  );
}

/** The signed-in user chooses a new password; the server sets a new session cookie. */
export function changePassword(current: string, next: string): Promise<User> {
  return request<User>(
    '/api/auth/password',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: current, new_password: next }),
    },
    { probe: true },
  );
}

export function logout(): Promise<void> {
  return request<void>('/api/auth/logout', { method: 'POST' }, { probe: true });
}

/** The current session's user, or null when there is none (401). */
export async function me(): Promise<User | null> {
  try {
    return await request<User>('/api/auth/me', {}, { probe: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

// ---- datasets ---------------------------------------------------------------------------

export interface Dataset {
  name: string;
  events: number;
  retracted_events: number;
  quarantined: number;
  duplicates: number;
  kind: string;
  profile: string;
  provenance: string;
  local_crs: string;
  harm_source?: string;
  /** Added by the server (API.md): the quality report's period and zone. */
  first_occurrence?: string | null;
  last_occurrence?: string | null;
  time_zone?: string;
}

export const datasets = () => request<Dataset[]>('/api/datasets');

// ---- quality ----------------------------------------------------------------------------

export interface Quality {
  dataset: string;
  time_zone: string;
  events: number;
  retracted_events: number;
  first_occurrence: string | null;
  last_occurrence: string | null;
  reasons: { code: string; count: number; explanation: string }[];
  duplicates: number;
  retractions: { matched: number; unmatched: number };
  by_year: Record<string, Record<string, number>>;
  without_location: {
    total: number;
    note: string;
    by_category: { category: string; events: number; without_point: number; share: number }[];
  };
  drift: {
    category: string;
    from_year: number;
    to_year: number;
    share_before_pct: number;
    share_after_pct: number;
    count_before: number;
    count_after: number;
  }[];
  drift_rule: string;
  quarantined_rows: {
    file: string;
    row: number;
    line: number;
    column: string | null;
    reason: string;
    detail: string;
    raw: string;
  }[];
}

export const quality = (name: string, q: Query = {}) => request<Quality>(withQuery(`${ds(name)}/quality`, q));

// ---- spatial layers ---------------------------------------------------------------------

/** The shared top-level fields of the analyst commands (CLI.md "shared flags"). */
export interface SelectionMeta {
  dataset: string;
  categories: string[];
  from: string | null;
  to: string | null;
  events?: number;
  events_outside_units?: number;
  units?: { kind: string; cell_size?: number; resolution?: number; cells?: number; areas?: number };
}

export interface EventProps {
  id: number;
  category: string;
  occurred_from: string;
  occurred_to: string;
  precision: string;
}
export interface EventsMeta extends SelectionMeta {
  matched: number;
  returned: number;
  limit: number;
  truncated: boolean;
  without_point: number;
}

export interface CellIdentity {
  unit: string;
  row?: number;
  col?: number;
  h3?: string;
  area?: string;
}
export interface CountProps extends CellIdentity {
  count: number;
}
export interface GistarProps extends CellIdentity {
  count: number;
  g: number | null;
  z: number | null;
  p: number | null;
  p_fdr: number | null;
  p_spot: number | null;
  p_spot_fdr: number | null;
  p_norm: number | null;
  spot: '' | 'hot' | 'cold';
}
export interface HotspotsMeta extends SelectionMeta {
  method: string;
  parameters: { alpha?: number; permutations?: number; hot_spots?: number; cold_spots?: number; spots?: string };
}
export interface KdeProps extends CellIdentity {
  count: number;
  /** Events per km² (`meta.parameters.density_unit`). */
  density: number;
}
export interface KdeMeta extends SelectionMeta {
  method: 'kde';
  parameters: {
    bandwidth_m: number;
    bandwidth_rule?: string;
    kernel?: string;
    adaptive?: boolean;
    density_unit?: string;
    events_used?: number;
  };
}
/** An emerging hot-spot row (`hotspots --method emerging`). */
export interface EmergingProps extends CellIdentity {
  count: number;
  /** The pattern's slug: `new_hot_spot`, …, `no_pattern`. */
  pattern: string;
  /** Its name for a person: "New Hot Spot", "No Pattern Detected". */
  label: string;
  hot_steps: number;
  cold_steps: number;
  trend_z: number | null;
  trend_p: number | null;
  last_step: string;
}
export interface EmergingMeta extends SelectionMeta {
  method: 'emerging';
  parameters: {
    step: 'month' | 'week';
    steps: number;
    step_edges?: string[];
    confidence?: number;
    /** Units per pattern slug. */
    patterns: Record<string, number>;
  };
}
export interface ForecastProps extends CellIdentity {
  score: number;
  rank: number;
  flagged: boolean;
  area_km2?: number;
  score_per_km2?: number;
}
export interface ForecastMeta {
  dataset: string;
  categories: string[];
  model: string;
  expected_counts: boolean;
  origin: string;
  horizon_days: number;
  train_days: number;
  train_events: number;
  coverage_pct: number | null;
  flagged_cells: number;
  flagged_area_km2: number;
  parameters: Record<string, number | string | null>;
  shift: null | { name: string; start_hour: number; end_hour: number; share: number; note?: string };
  units: { kind: string; cell_size?: number; resolution?: number; cells?: number };
}
export interface PriorityProps extends CellIdentity {
  rank: number;
  events: number;
  harm: number;
  harm_share: number;
  prior_events: number;
  rate_ratio: number | null;
  change_p: number | null;
  repeat_rate: number | null;
  peak_hours: string;
  by_category: string;
  why: string;
}
export interface PrioritiesMeta extends SelectionMeta {
  prior_from: string;
  prior_to: string;
  prior_events: number;
  harm_table: string;
  concentration: { events: { gini: number; share_at_top_5pct: number } };
}

export type Layer<P, M> = FeatureCollection<Geometry, P> & { meta: M };

export const boundary = (name: string) =>
  request<Layer<Record<string, unknown>, { dataset: string }>>(`${ds(name)}/boundary.geojson`);
export const events = (name: string, q: Query) =>
  request<Layer<EventProps, EventsMeta>>(withQuery(`${ds(name)}/events.geojson`, q));
export const aggregate = (name: string, q: Query) =>
  request<Layer<CountProps, SelectionMeta>>(withQuery(`${ds(name)}/aggregate.geojson`, q));
export const hotspots = (name: string, q: Query) =>
  request<Layer<GistarProps, HotspotsMeta>>(withQuery(`${ds(name)}/hotspots.geojson`, q));
/** `hotspots.geojson?method=kde`. */
export const kde = (name: string, q: Query) =>
  request<Layer<KdeProps, KdeMeta>>(withQuery(`${ds(name)}/hotspots.geojson`, q));
/** `hotspots.geojson?method=emerging`. */
export const emerging = (name: string, q: Query) =>
  request<Layer<EmergingProps, EmergingMeta>>(withQuery(`${ds(name)}/hotspots.geojson`, q));
export const forecast = (name: string, q: Query) =>
  request<Layer<ForecastProps, ForecastMeta>>(withQuery(`${ds(name)}/forecast.geojson`, q));
export const priorities = (name: string, q: Query) =>
  request<Layer<PriorityProps, PrioritiesMeta>>(withQuery(`${ds(name)}/priorities.geojson`, q));

// ---- context layers ---------------------------------------------------------------------

/** `streetlight layer list --json` (GET /api/datasets/{name}/layers). */
export interface ContextLayerInfo {
  name: string;
  kind: 'points' | 'lines' | 'polygons';
  features: number;
  file_name: string;
  sha256: string;
  uploaded_at: string;
  population_field: string | null;
}
/** A rates row: the layer's own properties plus these (`streetlight rates --json`). */
export interface RateProps {
  feature: number;
  count: number;
  population: number;
  rate_per_1000: number | null;
  [property: string]: unknown;
}
export interface RatesMeta {
  dataset: string;
  layer: string;
  population_field: string;
  categories: string[];
  from: string | null;
  to: string | null;
  features: number;
  events: number;
  without_point: number;
  in_polygons: number;
  outside_polygons: number;
  in_several: number;
  population: number;
  rate_per_1000: number | null;
}
/** `streetlight nearby --json`. */
export interface Nearby {
  dataset: string;
  lon: number;
  lat: number;
  radius_m: number;
  layers: {
    layer: string;
    kind: ContextLayerInfo['kind'];
    features: number;
    within: number;
    nearest: null | {
      feature: number;
      distance_m: number;
      label: string;
      population: number | null;
      properties: Record<string, unknown>;
    };
  }[];
}

export const contextLayers = (name: string) => request<ContextLayerInfo[]>(`${ds(name)}/layers`);
/** Adds or replaces a context layer (analysts and admins): the GeoJSON file's text as the body. */
export const uploadContextLayer = (name: string, layer: string, geojson: string, q: Query) =>
  request<ContextLayerInfo & { replaced: boolean; without_geometry: number }>(
    withQuery(`${ds(name)}/layers/${encodeURIComponent(layer)}`, q),
    { method: 'POST', headers: { 'Content-Type': 'application/geo+json' }, body: geojson },
  );
export const contextLayer = (name: string, layer: string) =>
  request<Layer<Record<string, unknown>, ContextLayerInfo & { dataset: string }>>(
    `${ds(name)}/layers/${encodeURIComponent(layer)}.geojson`);
export const rates = (name: string, q: Query) =>
  request<Layer<RateProps, RatesMeta>>(withQuery(`${ds(name)}/rates.geojson`, q));
export const nearby = (name: string, q: Query) => request<Nearby>(withQuery(`${ds(name)}/nearby`, q));

// ---- patterns ---------------------------------------------------------------------------

export interface PatternGroup {
  group: string;
  events: number;
  time_known: number;
  time_unknown: number;
  time_invalid: number;
  hour_week: { weekdays: string[]; values: number[][]; by_hour: number[]; by_weekday: number[] };
  monthly: {
    series: { month: string; value: number; complete: boolean }[];
    month_of_year: { month: number; years: number; total: number; mean: number }[];
  };
  weekly: {
    weeks: { week: string; start: string; value: number; complete: boolean }[];
    trend: null | {
      method: string;
      weeks: number;
      slope_per_week: number;
      intercept: number;
      slope_se: number;
      t: number;
      p: number;
    };
  };
  shifts: {
    shifts: {
      name: string;
      hours: number;
      amount: number;
      share: number;
      per_clock_hour: number;
      rate_ratio: number;
      expected: number;
    }[];
    outside: number;
    chi_square: number | null;
    df: number;
    p: number | null;
  };
}
export interface Patterns {
  dataset: string;
  time_zone: string;
  categories: string[];
  from: string | null;
  to: string | null;
  events: number;
  groups: PatternGroup[];
}
export const patterns = (name: string, q: Query) => request<Patterns>(withQuery(`${ds(name)}/patterns`, q));

// ---- near repeats -----------------------------------------------------------------------

export interface NearRepeat {
  dataset: string;
  categories: string[];
  from: string | null;
  to: string | null;
  events: number;
  permutations: number;
  bands: {
    space_band: [number, number | 'inf'];
    time_band: [number, number | 'inf'];
    observed: number;
    expected: number;
    knox_ratio: number | null;
    p: number;
  }[];
}
export const nearRepeat = (name: string, q: Query) => request<NearRepeat>(withQuery(`${ds(name)}/near-repeat`, q));

// ---- backtests --------------------------------------------------------------------------

export interface BacktestCoverage {
  coverage_pct: number;
  cells?: number;
  units?: number;
  area_km2: number;
  area_sqmi: number;
  pai: number | null;
  pai_se: number | null;
  hit_rate: number | null;
  pei_star: number | null;
}
export interface BacktestModel {
  name: string;
  coverage: BacktestCoverage[];
  mean_log_likelihood: number | null;
  parameters: Record<string, unknown> | null;
  origins_ok: number;
  seconds: number;
  ms_per_fit: number;
  origins: { origin: string; error: string | null }[];
}
export interface Backtest {
  dataset: string;
  categories: string[];
  units: { kind: string; cells?: number; areas?: number };
  start: string;
  origins: number;
  step_days: number;
  train_days: number;
  horizon_days: number;
  coverage_pct: number[];
  cell_size_m: number | null;
  study_area_km2: number;
  study_area_from: string;
  events: number;
  ranking: string;
  ties: string;
  models: BacktestModel[];
}
export const backtest = (name: string, q: Query) => request<Backtest>(withQuery(`${ds(name)}/backtest`, q));

// ---- area codes -------------------------------------------------------------------------

/** The levels of a selection's `area=LEVEL=CODE` (docs/CLI.md `--area`). */
export const AREA_LEVELS = ['district', 'beat', 'neighbourhood'] as const;

/** The codes of one area level that have events in the selection, with their event counts,
 * in natural order: the groups of `patterns?group_by=LEVEL` (one per code; the group
 * `(none)` holds events without a code and is left out). `aggregate.geojson?area_units=…`
 * would name the same units, but its features need outlines, which area codes lack. */
export async function areaCodes(name: string, level: string, q: Query = {}): Promise<{ code: string; events: number }[]> {
  const p = await patterns(name, { ...q, group_by: level });
  return p.groups
    .filter((g) => g.group !== '(none)')
    .map((g) => ({ code: g.group, events: g.events }))
    .sort((a, b) => a.code.localeCompare(b.code, 'en', { numeric: true }));
}

// ---- admin: accounts and the audit log (admins only) -------------------------------------

export interface Account {
  name: string;
  role: User['role'];
  created_ms: number;
  locked: boolean;
  disabled: boolean;
  must_change_password: boolean;
}
/** An account with the temporary password to pass on (shown once). */
export interface AccountWithPassword {
  user: Account;
  temporary_password: string;
}
export interface AuditRecord {
  id: number;
  ts_ms: number;
  actor: string | null;
  action: string;
  object: string;
  outcome: string;
  source: string;
  hash: string;
}
export interface AuditVerify {
  ok: boolean;
  records: number;
  head: string | null;
  problems: { id: number; check: string; message: string }[];
}

const postJson = <T>(path: string, body?: unknown) =>
  request<T>(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? '{}' : JSON.stringify(body),
  });
const account = (name: string) => `/api/admin/users/${encodeURIComponent(name)}`;

export const accounts = () => request<Account[]>('/api/admin/users');
export const addAccount = (name: string, role: string) =>
  postJson<AccountWithPassword>('/api/admin/users', { name, role });
export const setRole = (name: string, role: string) => postJson<Account>(`${account(name)}/role`, { role });
export const resetPassword = (name: string) => postJson<AccountWithPassword>(`${account(name)}/password`);
export const unlockAccount = (name: string) => postJson<Account>(`${account(name)}/unlock`);
export const disableAccount = (name: string) => postJson<Account>(`${account(name)}/disable`);
export const enableAccount = (name: string) => postJson<Account>(`${account(name)}/enable`);
export const auditLog = (limit: number) => request<AuditRecord[]>(withQuery('/api/admin/audit', { limit }));
export const verifyAudit = () => request<AuditVerify>('/api/admin/audit/verify');
