// MapLibre without any external resource: a style of one background layer, no glyphs, no
// sprite, no tiles. Every source is GeoJSON from our own API; text goes in HTML overlays.
import * as maplibregl from 'maplibre-gl';
import type { FeatureCollection, Geometry, Position } from 'geojson';

// The worker file is shipped beside app.js (build.mjs copies it); say so explicitly.
maplibregl.setWorkerUrl(new URL('maplibre-gl-worker.mjs', document.baseURI).href);

export { maplibregl };

export const BACKGROUND = '#eef0ee';

export const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

export function plainStyle(): maplibregl.StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }],
  };
}

declare global {
  interface Window {
    /** Test hook: the maps on the page, by id (the e2e test reads pixels and projects cells). */
    __streetlight?: { maps: Record<string, maplibregl.Map> };
  }
}

export function createMap(container: HTMLElement, id: string, options: Partial<maplibregl.MapOptions> = {}): maplibregl.Map {
  const map = new maplibregl.Map({
    container,
    style: plainStyle(),
    center: [-90.2, 38.63],
    zoom: 10,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    ...options,
  });
  map.touchZoomRotate.disableRotation();
  window.__streetlight ??= { maps: {} };
  window.__streetlight.maps[id] = map;
  const remove = map.remove.bind(map);
  map.remove = () => {
    if (window.__streetlight?.maps[id] === map) delete window.__streetlight.maps[id];
    remove();
  };
  return map;
}

/** Bounds of every coordinate in the collections, or null when they are empty. */
export function bounds(...collections: FeatureCollection<Geometry | null>[]): maplibregl.LngLatBounds | null {
  let b: maplibregl.LngLatBounds | null = null;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const p = c as Position;
      const ll: [number, number] = [p[0]!, p[1]!];
      if (b) b.extend(ll);
      else b = new maplibregl.LngLatBounds(ll, ll);
    } else if (Array.isArray(c)) c.forEach(visit);
  };
  for (const fc of collections) {
    for (const f of fc.features) {
      const g = f.geometry;
      if (!g) continue;
      if (g.type === 'GeometryCollection') g.geometries.forEach((x) => 'coordinates' in x && visit(x.coordinates));
      else visit(g.coordinates);
    }
  }
  return b;
}

/** Mean of a polygon's outer ring (a cell's centre, near enough for a marker). */
export function centre(g: Geometry): [number, number] | null {
  let ring: Position[] | undefined;
  if (g.type === 'Polygon') ring = g.coordinates[0];
  else if (g.type === 'MultiPolygon') ring = g.coordinates[0]?.[0];
  else if (g.type === 'Point') return [g.coordinates[0]!, g.coordinates[1]!];
  if (!ring || ring.length === 0) return null;
  const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
  let x = 0;
  let y = 0;
  for (const p of pts) {
    x += p[0]!;
    y += p[1]!;
  }
  return [x / pts.length, y / pts.length];
}

/** Resolves once the style has loaded (immediately if it has). */
export function loaded(map: maplibregl.Map): Promise<void> {
  return map.loaded() || map.isStyleLoaded() ? Promise.resolve() : new Promise((r) => map.once('load', () => r()));
}

export function setData(map: maplibregl.Map, source: string, data: FeatureCollection<Geometry | null>): void {
  const src = map.getSource(source) as maplibregl.GeoJSONSource | undefined;
  src?.setData(data as FeatureCollection);
}
