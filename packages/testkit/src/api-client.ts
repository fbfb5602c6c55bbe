import { createHmac } from 'node:crypto';
import { API_PREFIX, type RoomRole } from '@lookout/contracts';

/** Gateway settings tests start it with: a known admin key and token secret. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_TOKEN_SECRET = 'test-token-secret-0123456789abcdef';
/**
 * A refused-credential budget no test of refusals reaches: every test client is 127.0.0.1
 * (services/gateway/test/shared-limits.test.ts tests the throttle itself).
 */
export const TEST_GATEWAY_ENV = { API_KEYS: `admin:${TEST_ADMIN_KEY}`, TOKEN_SECRET: TEST_TOKEN_SECRET, WEBHOOK_ALLOW_HOSTS: '127.0.0.1', AUTH_FAILURES_PER_MINUTE: '100000' };

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One REST call to the gateway. `auth` defaults to the test admin key; `null` sends none. */
export async function apiCall<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { auth?: string | null; json?: unknown; body?: NonNullable<Parameters<typeof fetch>[1]>['body']; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? TEST_ADMIN_KEY : opts.auth;
  if (auth) headers.authorization = `Bearer ${auth}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json);
  }
  const res = await fetch(`${baseUrl}${path.startsWith('/') && !path.startsWith(API_PREFIX) && !path.startsWith('/openapi') && !path.startsWith('/docs') ? API_PREFIX : ''}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (HTML, empty)
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** A room token signed like the gateway signs them (HS256 with `secret`). */
export function roomToken(room: string, role: RoomRole, opts: { secret?: string; peer?: string; expiresInS?: number } = {}): string {
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64(JSON.stringify({ room, role, peer: opts.peer ?? 'tester', exp: Math.floor(Date.now() / 1000) + (opts.expiresInS ?? 600) }));
  const sig = b64(createHmac('sha256', opts.secret ?? TEST_TOKEN_SECRET).update(`${header}.${payload}`).digest());
  return `${header}.${payload}.${sig}`;
}
