// Where the app is (hash routes: the server only serves `/`) and the toast. Screens import
// this, never app.js, so modules do not import each other in a circle.

/** The screens, by the name in the address (`#/galeria`). The first is the default. */
export const SCREENS = ['galeria', 'rankings', 'mis-videos', 'compartidos', 'cuenta', 'entrar', 'registro', 'shared', 'complete-profile', 'verify-email', 'olvide-contrasena', 'reset-password'];

/** Addresses the server sends the browser to (after an OpenID login), by the screen they name. */
const ALIASES = { login: 'entrar' };

/**
 * The route of the address: `#/galeria?city=Bogotá` → `{ name: 'galeria', params, arg: '' }`;
 * `#/shared/<token>` → `{ name: 'shared', arg: '<token>' }`.
 */
export function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [given, ...rest] = path.split('/');
  const first = ALIASES[given] ?? given;
  const name = SCREENS.includes(first) ? first : SCREENS[0];
  return { name, params: new URLSearchParams(query), arg: name === first ? rest.join('/') : '' };
}

/** Goes to screen `name` with query `params` (empty values are dropped); reloads it when already there. */
export function navigate(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null));
  const hash = `#/${name}${query.size ? `?${query}` : ''}`;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
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
