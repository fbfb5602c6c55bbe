/**
 * Credentials in the browser: an admin API key (kept in localStorage on this machine, for
 * operators) or a room token (from the link a publisher or viewer was given, `?token=`).
 */
const KEY = 'lookout.adminKey';

export function adminKey(): string | null {
  return localStorage.getItem(KEY);
}

export function setAdminKey(key: string | null): void {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

/** A room token from the page's query (`#/publish?room=…&token=…`), if any. */
export function tokenFromRoute(params: URLSearchParams): string | null {
  return params.get('token');
}

/** The credential to use: a route token first, then the admin key. */
export function credential(params?: URLSearchParams): string | null {
  return (params && tokenFromRoute(params)) || adminKey();
}
