// Entry point: the shell (header, navigation, dataset choice), the session check and the router.
import 'maplibre-gl/dist/maplibre-gl.css';
import './styles.css';
import * as api from './api';
import { h, clear, errorBox } from './dom';
import { parseHash, go, href, type Cleanup, type Page } from './router';
import { state, chooseDataset, initialDataset } from './state';
import { loginPage } from './pages/login';
import { passwordPage } from './pages/password';
import { mapPage } from './pages/map';
import { patternsPage } from './pages/patterns';
import { forecastsPage } from './pages/forecasts';
import { briefingPage } from './pages/briefing';
import { qualityPage } from './pages/quality';
import { adminPage } from './pages/admin';

/** `admin`: listed for administrators only, and needs no dataset. */
const PAGES: Record<string, { title: string; page: Page; admin?: boolean }> = {
  map: { title: 'Map', page: mapPage },
  patterns: { title: 'Patterns', page: patternsPage },
  forecasts: { title: 'Forecasts', page: forecastsPage },
  briefing: { title: 'Shift briefing', page: briefingPage },
  quality: { title: 'Data quality', page: qualityPage },
  admin: { title: 'Admin', page: adminPage, admin: true },
};
const DEFAULT_PAGE = 'map';

const app = document.getElementById('app') as HTMLElement;
let cleanup: Cleanup | void = undefined;
let rendering = 0;

function header(active: string): HTMLElement {
  const select = h('select', { id: 'dataset', 'aria-label': 'Dataset' });
  for (const d of state.datasets) {
    const o = h('option', { value: d.name }, d.name);
    if (d.name === state.dataset) o.selected = true;
    select.append(o);
  }
  select.addEventListener('change', () => {
    chooseDataset(select.value);
    void render();
  });
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: href(DEFAULT_PAGE) }, 'Streetlight'),
    h(
      'nav',
      { 'aria-label': 'Pages' },
      Object.entries(PAGES).filter(([, p]) => !p.admin || state.user?.role === 'admin').map(([name, p]) =>
        h('a', { href: href(name), class: name === active ? 'active' : '', 'data-page': name }, p.title),
      ),
    ),
    h(
      'div',
      { class: 'who' },
      select,
      h('span', { class: 'user', title: state.user?.role ?? '' }, state.user?.name ?? ''),
      h('button', {
        type: 'button',
        class: 'link',
        id: 'logout',
        onclick: async () => {
          try {
            await api.logout();
          } finally {
            state.user = null;
            go('login');
          }
        },
      }, 'Sign out'),
    ),
  );
}

/** Whether there is a session ('ok'), none ('login'), or one that must first choose its
 * own password ('password'). */
async function ensureSession(): Promise<'ok' | 'login' | 'password'> {
  if (!state.user) state.user = await api.me();
  if (!state.user) return 'login';
  if (state.user.must_change_password) return 'password';
  if (state.datasets.length === 0) {
    state.datasets = await api.datasets();
    const first = initialDataset(state.datasets);
    if (first) chooseDataset(first);
  }
  return 'ok';
}

async function render(): Promise<void> {
  const ticket = ++rendering;
  if (cleanup) {
    cleanup();
    cleanup = undefined;
  }
  const route = parseHash();
  clear(app);
  try {
    if (route.name === 'login') {
      document.title = 'Sign in · Streetlight';
      cleanup = await loginPage(app, route.params);
      return;
    }
    if (route.name === 'password') {
      document.title = 'Choose a password · Streetlight';
      if (!state.user) state.user = await api.me();
      if (!state.user) {
        go('login');
        return;
      }
      cleanup = passwordPage(app, route.params);
      return;
    }
    const session = await ensureSession();
    if (session !== 'ok') {
      const next = location.hash && !/^#\/(login|password)/.test(location.hash) ? location.hash : '';
      go(session, next ? { next } : {});
      return;
    }
    if (ticket !== rendering) return;
    const name = route.name in PAGES ? route.name : DEFAULT_PAGE;
    const entry = PAGES[name]!;
    document.title = `${entry.title} · Streetlight`;
    const main = h('main', { id: 'page', class: `page page-${name}` });
    clear(app);
    app.append(header(name), main);
    if (!state.dataset && !entry.admin) {
      main.append(h('p', { class: 'empty' }, 'No dataset is loaded yet. Load one with `streetlight ingest`.'));
      return;
    }
    const done = await entry.page(main, route.params);
    // another route rendered while this page was loading: dispose of it at once
    if (ticket !== rendering) done?.();
    else cleanup = done;
  } catch (e) {
    if (ticket !== rendering) return;
    app.append(errorBox(e));
  }
}

api.setUnauthenticatedHandler(() => {
  state.user = null;
  if (parseHash().name !== 'login') go('login', { next: location.hash });
});

window.addEventListener('hashchange', () => void render());
void render();
