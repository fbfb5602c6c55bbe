import { API_PREFIX, isErrorCode, LookoutError, type ErrorCode } from '@lookout/contracts';
import { credential } from './auth.js';

/** The code of a failed response that carries no error body (a proxy's page, say). */
function codeOfStatus(status: number): ErrorCode {
  const byStatus: Record<number, ErrorCode> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'body_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };
  return byStatus[status] ?? (status === 0 || status >= 502 ? 'unavailable' : 'internal');
}

/**
 * A failed REST call: the gateway's error as the LookoutError it was (same code, message,
 * field and details), with the HTTP status it came with (0: no response at all).
 */
export class HttpError extends LookoutError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    field?: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, field, details);
    this.name = 'HttpError';
  }

  /**
   * The error of a response. The REST body is `{ error: { code, message, field?, ... } }`,
   * a code's details beside code and message (no_usable_image's `images`); a body without
   * one gets the code of its status.
   */
  static fromResponse(status: number, statusText: string, data: unknown): HttpError {
    const e = (data as { error?: Record<string, unknown> } | undefined)?.error;
    if (!e || typeof e.code !== 'string') return new HttpError(status, codeOfStatus(status), `${status} ${statusText}`.trim());
    const { code, message, field, ...rest } = e;
    const details = Object.keys(rest).length ? rest : undefined;
    return new HttpError(status, isErrorCode(code) ? code : 'internal', typeof message === 'string' ? message : `${status} ${statusText}`, typeof field === 'string' ? field : undefined, details);
  }
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  token?: string | null;
}

/** One REST call; resolves with the parsed JSON or throws HttpError. */
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
  if (!res.ok) throw HttpError.fromResponse(res.status, res.statusText, data);
  return data as T;
}

/** Mints a room token with the admin key (viewer or publisher), for pages that need one. */
export async function roomToken(room: string, role: 'publisher' | 'viewer'): Promise<string> {
  const r = await api<{ token: string }>('/tokens', { json: { room, role } });
  return r.token;
}
