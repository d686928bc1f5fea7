#!/usr/bin/env node
// Builds web/dist/: index.html, app.js (+ app.css) and MapLibre's worker beside them.
// Everything the UI needs at run time is in dist/; nothing is fetched from elsewhere.
//   node build.mjs          minified production build
//   node build.mjs --dev    with inline source maps, not minified
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const dev = process.argv.includes('--dev');
const require = createRequire(import.meta.url);
const maplibreDist = dirname(require.resolve('maplibre-gl/package.json')) + '/dist';

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: { app: join(here, 'src/main.ts') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
});

copyFileSync(join(here, 'src/index.html'), join(dist, 'index.html'));
copyFileSync(join(maplibreDist, 'maplibre-gl-worker.mjs'), join(dist, 'maplibre-gl-worker.mjs'));
// esbuild drops the bundled licence comments (legalComments: 'none'); MapLibre's BSD licence
// asks that binary redistributions carry its notice, so the text ships beside the files.
copyFileSync(join(maplibreDist, '..', 'LICENSE.txt'), join(dist, 'LICENSE-maplibre-gl.txt'));

let total = 0;
for (const f of readdirSync(dist).sort()) {
  const size = statSync(join(dist, f)).size;
  total += size;
  console.log(`${f.padEnd(28)} ${(size / 1024).toFixed(1).padStart(8)} KiB`);
}
console.log(`${'total'.padEnd(28)} ${(total / 1024).toFixed(1).padStart(8)} KiB`);
