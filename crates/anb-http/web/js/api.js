// The REST contract (API.md) as functions. Errors are the contract's `{detail, code}` bodies,
// thrown as ApiError; the session (the bearer token) lives in localStorage.

const TOKEN_KEY = 'anb.session';

/** An error answer of the service: HTTP status, the contract's `code`, its `detail`. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const listeners = new Set();

/** The signed-in player's token, or null when signed out or expired. */
export const session = {
  read() {
    try {
      const saved = JSON.parse(localStorage.getItem(TOKEN_KEY));
      if (saved && saved.expiresAt > Date.now()) return saved;
    } catch { /* a damaged entry counts as signed out */ }
    return null;
  },
  get token() {
    return this.read()?.token ?? null;
  },
  get name() {
    return this.read()?.name ?? '';
  },
  save(token, expiresIn, name = '') {
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ token, name, expiresAt: Date.now() + expiresIn * 1000 }));
    listeners.forEach((fn) => fn());
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    listeners.forEach((fn) => fn());
  },
  /** Calls `fn` whenever the player signs in or out. */
  onChange(fn) {
    listeners.add(fn);
  },
};

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch { /* not JSON: keep the status */ }
  return new ApiError(response.status, body.code || 'http_' + response.status, body.detail || response.statusText);
}

/**
 * Calls the API. `auth` sends the bearer token; a 401 on such a call signs the player out.
 * Resolves to `{ data, total }` (`total` from `X-Total-Count` on lists).
 */
export async function call(path, { method = 'GET', body, auth = false, query } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (auth && response.status === 401) session.clear();
    throw error;
  }
  const total = Number(response.headers.get('X-Total-Count') ?? NaN);
  const data = response.status === 204 ? null : await response.json();
  return { data, total: Number.isNaN(total) ? null : total };
}

/** Fetches protected media (owner's thumbnails and private videos) as an object URL. */
export async function mediaUrl(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!response.ok) throw await errorOf(response);
  return URL.createObjectURL(await response.blob());
}

/**
 * Uploads a video form with XMLHttpRequest (fetch cannot report upload progress).
 * `onProgress(sent, total)` follows the bytes; returns `{ done, cancel }` where `done`
 * resolves to the 201 body or rejects with ApiError (`cancelled` when cancelled).
 */
export function upload(formData, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', '/api/videos/upload');
    xhr.setRequestHeader('Authorization', `Bearer ${session.token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onload = () => {
      const body = xhr.response ?? {};
      if (xhr.status === 201) resolve(body);
      else {
        if (xhr.status === 401) session.clear();
        reject(new ApiError(xhr.status, body.code || 'http_' + xhr.status, body.detail || ''));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', ''));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', ''));
    xhr.send(formData);
  });
  return { done, cancel: () => xhr.abort() };
}

export const auth = {
  signup: (form) => call('/api/auth/signup', { method: 'POST', body: form }),
  login: (email, password) => call('/api/auth/login', { method: 'POST', body: { email, password } }),
  me: () => call('/api/auth/me', { auth: true }),
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
