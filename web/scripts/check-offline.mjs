#!/usr/bin/env node
// Invariant: the built UI loads nothing from outside its own origin. Fails when a file in
// dist/ holds an http(s) URL other than XML namespaces and the few inert strings below,
// a protocol-relative URL in HTML or CSS, or a CSS @import / url() that is not data: or local.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// XML namespaces: identifiers, never fetched.
const NAMESPACES = new Set([
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/2000/xmlns/',
  'http://www.w3.org/XML/1998/namespace',
]);
// Strings inside MapLibre that are never requested, each checked by hand (maplibre-gl 6.17):
const INERT = new Map([
  ['https://maplibre.org/', 'href of the attribution and logo controls; the UI shows neither'],
  ['https://maplibre.invalid/', 'base URL for parsing attribute values (.invalid never resolves)'],
  ['https://wiki.openstreetmap.org/wiki/This_map_requires_WebGL', 'text of the no-WebGL error message'],
  ['https://github.com/mapbox/mapbox-gl-js/issues/2907', 'text of a console warning about glyphs'],
  ['https://github.com/maplibre/maplibre-gl-js/blob/v6.17.0/LICENSE.txt', 'license comment heading the worker file'],
]);

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

const problems = [];
let checked = 0;
for (const file of files(dist)) {
  if (!/\.(html|js|mjs|css|json|svg|txt|map)$/.test(file)) continue;
  if (/(^|\/)LICENSE[^/]*$/.test(file)) continue; // license texts: shipped for attribution, never loaded
  checked++;
  const text = readFileSync(file, 'utf8');
  const rel = relative(dist, file);
  for (const m of text.matchAll(/https?:\/\/[^\s"'`)<>\\]*/g)) {
    const url = m[0];
    if (NAMESPACES.has(url) || INERT.has(url)) continue;
    problems.push(`${rel}: ${url}`);
  }
  if (/\.(html|css)$/.test(file)) {
    for (const m of text.matchAll(/(?:src|href)\s*=\s*["']\/\/[^"']*/g)) problems.push(`${rel}: protocol-relative ${m[0]}`);
  }
  if (/\.css$/.test(file)) {
    for (const m of text.matchAll(/@import[^;]*/g)) problems.push(`${rel}: ${m[0]}`);
    for (const m of text.matchAll(/url\(\s*["']?([^"')]*)/g)) {
      if (!/^(data:|#|[\w./-]+$)/.test(m[1]) || m[1].startsWith('//')) problems.push(`${rel}: url(${m[1].slice(0, 60)})`);
    }
  }
}
if (checked === 0) {
  console.error('error: dist/ is empty or missing; run `npm run build` first');
  process.exit(1);
}
if (problems.length) {
  console.error(`error: ${problems.length} external reference(s) in dist/:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`offline check: ${checked} files in dist/, no external URLs (${INERT.size} inert MapLibre strings allowed)`);
