// The REST contract (API.md) as functions. Errors are the contract's `{detail, code}` bodies,
// thrown as ApiError. The session: the access token lives in this module only (never in
// storage); the refresh token is the server's HttpOnly cookie, exchanged for a new access
// token on start-up, shortly before the token runs out and when a call answers 401.

/** An error answer of the service: HTTP status, the contract's `code`, its `detail`. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Renew this long before the access token runs out. */
const EARLY_MS = 30 * 1000;

/**
 * A note in this browser's storage that it has signed in (no token, just "1"): start-up asks
 * for a session only then, so a visitor's first load sends no refresh that can only fail.
 */
const SIGNED_IN_HINT = 'anb.signedIn';

function hint(on) {
  try {
    if (on) localStorage.setItem(SIGNED_IN_HINT, '1');
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch { /* storage refused: start-up then always asks */ }
}

/**
 * Whether a session may exist: this browser signed in before, or the server just signed it in
 * (an OpenID login lands on `/?signed_in=1`; the parameter is taken out of the address).
 */
function mayHaveSession() {
  const params = new URLSearchParams(location.search);
  if (params.has('signed_in')) {
    params.delete('signed_in');
    const query = params.size ? `?${params}` : '';
    history.replaceState(history.state, '', `${location.pathname}${query}${location.hash}`);
    return true;
  }
  try {
    return localStorage.getItem(SIGNED_IN_HINT) !== null;
  } catch {
    return true;
  }
}

const listeners = new Set();
let access = null; // { token, expiresAt }
let playerName = '';
let emailVerified = null; // null: not known
let refreshing = null;
let signOuts = 0; // a refresh answered after a log-out must not sign the player back in

function changed(reason) {
  listeners.forEach((fn) => fn(reason));
}

/** The signed-in player's access token (in memory only), or null when signed out. */
export const session = {
  get token() {
    return access?.token ?? null;
  },
  get name() {
    return playerName;
  },
  /** Whether the player's email is verified (null: not known). */
  get verified() {
    return emailVerified;
  },
  /** Keeps a new access token (and `/api/auth/me`'s answer, when given: name, verified email). */
  save(token, expiresIn, me) {
    const was = access !== null;
    access = { token, expiresAt: Date.now() + expiresIn * 1000 };
    if (!was) hint(true);
    if (me !== undefined) {
      playerName = me.first_name;
      emailVerified = me.email_verified;
    }
    if (!was || me !== undefined) changed('signed-in');
  },
  /** Records whether the player's email is verified. */
  setVerified(verified) {
    if (!access || emailVerified === verified) return;
    emailVerified = verified;
    changed('profile');
  },
  /** Forgets the token; `reason` is `logout` (asked for) or `expired` (it could not be renewed). */
  clear(reason = 'logout') {
    const was = access !== null;
    access = null;
    hint(false);
    playerName = '';
    emailVerified = null;
    signOuts += 1;
    if (was) changed(reason);
  },
  /** Calls `fn(reason)` whenever the player signs in or out. */
  onChange(fn) {
    listeners.add(fn);
  },
};

/**
 * Exchanges the refresh cookie for a new access token; resolves to true when it did. One
 * refresh at a time: concurrent callers share the one in flight (and tabs take turns through
 * a Web Lock where there is one, since each refresh token works once). A refusal ends the
 * session; a network failure leaves it as it was.
 */
export function refresh() {
  refreshing ??= withLock(renew).finally(() => { refreshing = null; });
  return refreshing;
}

function withLock(fn) {
  return navigator.locks ? navigator.locks.request('anb.refresh', fn) : fn();
}

async function renew() {
  const since = signOuts;
  let response;
  try {
    response = await fetch('/api/auth/refresh', {
      method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
  } catch {
    return false;
  }
  if (!response.ok) {
    if (response.status !== 429 && response.status < 500) session.clear('expired');
    return false;
  }
  const data = await response.json();
  if (since !== signOuts) return false;
  session.save(data.access_token, data.expires_in);
  return true;
}

/** On start-up: the session of the refresh cookie, if any (then the player's name). */
export async function restore() {
  if (!mayHaveSession() || !await refresh()) return false;
  try {
    const { data } = await auth.me();
    session.save(session.token, (access.expiresAt - Date.now()) / 1000, data);
  } catch { /* the name is a nicety */ }
  return true;
}

/** The access token to send: renewed first when it is about to run out. */
async function currentToken() {
  if (access && access.expiresAt - Date.now() < EARLY_MS) await refresh();
  return session.token;
}

/**
 * `fetch` with the bearer token (when signed in): on 401 the token is renewed once and the
 * request sent again; a second 401 ends the session.
 */
async function authorized(url, init = {}) {
  const send = (token) => fetch(url, {
    ...init, headers: { ...init.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  const token = await currentToken();
  let response = await send(token);
  if (response.status !== 401 || !token) return response;
  // Renewed meanwhile by another call: just send again with the new token.
  if (session.token === token && !await refresh()) return response;
  if (!session.token) return response;
  response = await send(session.token);
  if (response.status === 401) session.clear('expired');
  return response;
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch { /* not JSON: keep the status */ }
  return new ApiError(response.status, body.code || 'http_' + response.status, body.detail || response.statusText);
}

/**
 * Calls the API. `auth` sends the bearer token (renewed once on a 401; when it cannot be, the
 * player is signed out). Resolves to `{ data, total }` (`total` from `X-Total-Count` on lists).
 */
export async function call(path, { method = 'GET', body, auth = false, query } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  let response;
  try {
    response = await (auth ? authorized(url, init) : fetch(url, init));
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (!response.ok) throw await errorOf(response);
  const total = Number(response.headers.get('X-Total-Count') ?? NaN);
  const data = response.status === 204 ? null : await response.json();
  return { data, total: Number.isNaN(total) ? null : total };
}

/** Fetches protected media (owner's thumbnails and private videos) as an object URL. */
export async function mediaUrl(path) {
  const response = await authorized(path);
  if (!response.ok) throw await errorOf(response);
  return URL.createObjectURL(await response.blob());
}

/**
 * Uploads a video form with XMLHttpRequest (fetch cannot report upload progress).
 * `onProgress(sent, total)` follows the bytes; returns `{ done, cancel }` where `done`
 * resolves to the 201 body or rejects with ApiError (`cancelled` when cancelled). A 401 renews
 * the token and sends the form once more.
 */
export function upload(formData, onProgress) {
  let xhr = null;
  let cancelled = false;
  const send = (token) => new Promise((resolve, reject) => {
    xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/videos/upload');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onload = () => {
      const body = xhr.response ?? {};
      if (xhr.status === 201) resolve(body);
      else reject(new ApiError(xhr.status, body.code || 'http_' + xhr.status, body.detail || ''));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', ''));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', ''));
    xhr.send(formData);
  });
  const done = (async () => {
    const token = await currentToken();
    if (cancelled) throw new ApiError(0, 'cancelled', '');
    try {
      return await send(token);
    } catch (error) {
      if (error.status !== 401 || cancelled) throw error;
      if (session.token === token && !await refresh()) throw error;
      if (!session.token) throw error;
      if (cancelled) throw new ApiError(0, 'cancelled', '');
      try {
        return await send(session.token);
      } catch (again) {
        if (again.status === 401) session.clear('expired');
        throw again;
      }
    }
  })();
  return { done, cancel: () => { cancelled = true; xhr?.abort(); } };
}

let providers = null;

export const auth = {
  signup: (form) => call('/api/auth/signup', { method: 'POST', body: form }),
  login: (email, password) => call('/api/auth/login', { method: 'POST', body: { email, password } }),
  me: () => call('/api/auth/me', { auth: true }),
  sendVerification: () => call('/api/auth/verify-email/send', { method: 'POST', auth: true }),
  verifyEmail: (token) => call('/api/auth/verify-email', { method: 'POST', body: { token } }),
  requestReset: (email) => call('/api/auth/password-reset', { method: 'POST', body: { email } }),
  confirmReset: (token, password1, password2) => call('/api/auth/password-reset/confirm', { method: 'POST', body: { token, password1, password2 } }),
  /** The OpenID providers to log in with (`[{id, name, login_url}]`); asked once per page load. */
  providers() {
    providers ??= call('/api/auth/providers').then(({ data }) => data ?? [], () => []);
    return providers;
  },
  /**
   * Creates the account of a player back from the provider (the `anb_oidc_signup` cookie says
   * who) with the profile they completed, and signs them in.
   */
  async completeOidc(profile) {
    let response;
    try {
      response = await fetch('/api/auth/oidc/complete', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify(profile),
      });
    } catch {
      throw new ApiError(0, 'network', '');
    }
    if (!response.ok) throw await errorOf(response);
    return { data: await response.json() };
  },
  /** Ends this device's session (the refresh cookie) and forgets the token. */
  async logout() {
    try {
      await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' });
    } finally {
      session.clear('logout');
    }
  },
  /** Ends every session of the player (every device), then this one's token. */
  async logoutAll() {
    await call('/api/auth/logout-all', { method: 'POST', auth: true });
    session.clear('logout');
  },
};

export const videos = {
  mine: () => call('/api/videos', { auth: true, query: { page_size: 100 } }),
  detail: (id) => call(`/api/videos/${id}`, { auth: true }),
  publish: (id) => call(`/api/videos/${id}/publish`, { method: 'POST', auth: true }),
  unpublish: (id) => call(`/api/videos/${id}/unpublish`, { method: 'POST', auth: true }),
  remove: (id) => call(`/api/videos/${id}`, { method: 'DELETE', auth: true }),
};

export const gallery = {
  list: (query) => call('/api/public/videos', { query }),
  vote: (id) => call(`/api/public/videos/${id}/vote`, { method: 'POST', auth: true }),
  rankings: (query) => call('/api/public/rankings', { query }),
};

export const sharing = {
  players: (q) => call('/api/users', { auth: true, query: { q, page_size: 10 } }),
  shares: (id) => call(`/api/videos/${id}/shares`, { auth: true }),
  share: (id, userId) => call(`/api/videos/${id}/shares`, { method: 'POST', auth: true, body: { user_id: userId } }),
  unshare: (id, userId) => call(`/api/videos/${id}/shares/${userId}`, { method: 'DELETE', auth: true }),
  links: (id) => call(`/api/videos/${id}/share-links`, { auth: true }),
  createLink: (id, seconds) => call(`/api/videos/${id}/share-links`, { method: 'POST', auth: true, body: { expires_in: seconds } }),
  revokeLink: (id, linkId) => call(`/api/videos/${id}/share-links/${linkId}`, { method: 'DELETE', auth: true }),
  withMe: () => call('/api/shared-with-me', { auth: true }),
  withMeOne: (id) => call(`/api/shared-with-me/${id}`, { auth: true }),
  openLink: (token) => call(`/api/share-links/${encodeURIComponent(token)}`),
};
