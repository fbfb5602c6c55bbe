/**
 * Credentials in the browser: an admin API key (kept in this tab's sessionStorage only, for
 * operators) or a room token (from the link a publisher or viewer was given, `?token=`).
 *
 * Not localStorage: a key there outlives the tab, is shared by every tab and window of the
 * profile, and stays on the disk of a machine someone else may use next. sessionStorage
 * ends with the tab (a reload keeps it); the sign-in form says so.
 */
const KEY = 'lookout.adminKey';

// Versions before this one kept the key in localStorage: do not leave it there.
try {
  localStorage.removeItem(KEY);
} catch {
  // Storage may be disabled; there is nothing to remove then.
}

export function adminKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setAdminKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** A room token from the page's query (`#/publish?room=…&token=…`), if any. */
export function tokenFromRoute(params: URLSearchParams): string | null {
  return params.get('token');
}

/** The credential to use: a route token first, then the admin key. */
export function credential(params?: URLSearchParams): string | null {
  return (params && tokenFromRoute(params)) || adminKey();
}
