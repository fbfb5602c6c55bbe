import { API_PREFIX } from '@lookout/contracts';
import { credential } from './auth';

/** An error reply of the gateway: `{error: {code, message, field}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  token?: string | null;
}

/** One REST call; resolves with the parsed JSON or throws ApiError. */
export async function api<T = unknown>(path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = {};
  const auth = opts.token ?? credential();
  if (auth) headers.authorization = `Bearer ${auth}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${API_PREFIX}${path}`, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string; field?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `${res.status} ${res.statusText}`, e?.field, data);
  }
  return data as T;
}

/** Mints a room token with the admin key (viewer or publisher), for pages that need one. */
export async function roomToken(room: string, role: 'publisher' | 'viewer'): Promise<string> {
  const r = await api<{ token: string }>('/tokens', { json: { room, role } });
  return r.token;
}
