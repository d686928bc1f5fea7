// Hash routes: #/name?key=value. A page renders into a container and may return a cleanup.

export type Cleanup = () => void;
export type Page = (root: HTMLElement, params: URLSearchParams) => Cleanup | void | Promise<Cleanup | void>;

export interface Route {
  name: string;
  params: URLSearchParams;
}

export function parseHash(hash: string = location.hash): Route {
  const body = hash.replace(/^#\/?/, '');
  const [name = '', query = ''] = body.split('?', 2);
  return { name, params: new URLSearchParams(query) };
}

export function href(name: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${name}${q ? `?${q}` : ''}`;
}

export function go(name: string, params: Record<string, string> = {}): void {
  const target = href(name, params);
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}

/** Rewrites the query of the current route without rendering again. */
export function replaceParams(params: Record<string, string>): void {
  const { name } = parseHash();
  history.replaceState(null, '', href(name, params));
}
