// Where the app is (real paths, the History API: the server serves the page at every screen's
// path) and the toast. Screens import this, never app.js, so modules do not import each other
// in a circle.

/** The screens served at `/{name}` (web.rs lists the same names). The first is the default. */
export const SCREENS = ['galeria', 'rankings', 'mis-videos', 'compartidos', 'cuenta', 'entrar', 'registro', 'shared', 'complete-profile', 'verify-email', 'olvide-contrasena', 'reset-password', 'operador'];

/** Pages of one thing: a video (`/v/{id}`) and a player (`/p/{id}`). */
const PAGES = ['v', 'p'];

/** Addresses the server sends the browser to (after an OpenID login), by the screen they name. */
const ALIASES = { login: 'entrar' };

/** The address the server answered 404 for (its page says so): the not-found screen. */
const MISSING = document.querySelector('meta[name="anb-page"]')?.content === 'not-found' ? location.pathname : null;

/**
 * An old hash address (`/#/shared/<token>`, `/#/verify-email?token=…`, `/#/login?…`, the links
 * in mails and share links before real paths) becomes its path, in place: true when it did.
 */
export function fromHash() {
  if (!location.hash.startsWith('#/')) return false;
  const [path, query] = location.hash.slice(2).split('?');
  const [first, ...rest] = path.split('/');
  const name = [ALIASES[first] ?? first, ...rest].join('/');
  history.replaceState(history.state, '', `/${name}${query ? `?${query}` : ''}`);
  return true;
}

/**
 * The route of the address: `/galeria?city=Bogotá` → `{ name: 'galeria', params, arg: '' }`;
 * `/shared/<token>` → `{ name: 'shared', arg: '<token>' }`; `/v/<id>` → `{ name: 'v', arg }`.
 * `/` is the gallery; an address the app does not know, the not-found screen.
 */
export function currentRoute() {
  const [given = '', ...rest] = location.pathname.slice(1).split('/');
  const first = ALIASES[given] ?? given;
  const params = new URLSearchParams(location.search);
  const arg = rest.join('/');
  if (location.pathname === MISSING) return { name: 'not-found', params, arg: '' };
  if (!first) return { name: SCREENS[0], params, arg: '' };
  if (SCREENS.includes(first) || (PAGES.includes(first) && arg)) return { name: first, params, arg };
  return { name: 'not-found', params, arg: '' };
}

/** Whether the app draws `url` itself (a link to it is followed without loading the page). */
export function isAppUrl(url) {
  const first = url.pathname.split('/')[1];
  return url.origin === location.origin && (!first || SCREENS.includes(first) || PAGES.includes(first) || first in ALIASES);
}

/** Goes to `path` (`/v/<id>`, `/rankings?city=Cali`): a new history entry, then its screen. */
export function go(path) {
  if (`${location.pathname}${location.search}` !== path) history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Goes to screen `name` (`galeria`, `v/<id>`) with query `params` (empty values dropped); reloads it when already there. */
export function navigate(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null));
  go(`/${String(name).replace(/^[/\\]+/, '')}${query.size ? `?${query}` : ''}`);
}

/** Shows a short message in the live region (screen readers read it out). */
export function toast(message, kind = 'ok') {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.dataset.kind = kind;
  box.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(hideToast, 5000);
}

/** Hides the toast (a new screen does not carry the last one's message). */
export function hideToast() {
  clearTimeout(toast.timer);
  document.getElementById('toast').classList.remove('show');
}
