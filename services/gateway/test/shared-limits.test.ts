import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { closeHttp, createLogger, listenHttp, openKv, Registry, type StorageOptions } from '@lookout/service-kit';
import { startNatsServer, stopAllProcesses, type NatsServer } from '@lookout/testkit';
import { createApp } from '../src/app.js';
import { ApiRouter } from '../src/http/api-router.js';
import { ApiKeys, Authenticator, RoomTokens } from '../src/http/auth.js';
import { clientAddress } from '../src/http/client-address.js';
import { createLimits } from '../src/http/limits.js';
import { APP_CSP } from '../src/http/security-headers.js';
import { SharedBuckets } from '../src/http/shared-buckets.js';

/**
 * The gateway's shared budgets against a real nats-server: two limiters (two "replicas",
 * each with its own NATS connection) spend one budget, and two gateway apps built like
 * main.ts builds one throttle refused credentials together.
 */
const log = createLogger('gateway-test', 'silent', 'test');
const ADMIN_KEY = 'admin-key-for-limits-0123';
const SECRET = 'token-secret-for-limits-0123456789';

describe('shared rate limits (real nats-server)', () => {
  let nats: NatsServer;
  const conns: NatsConnection[] = [];
  const servers: http.Server[] = [];
  const stops: Array<() => void> = [];
  const webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-web-'));

  /** One replica's view of the rateLimits bucket, over its own connection. */
  async function replicaKv(): Promise<KV> {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const opts: StorageOptions = { service: 'gateway', replicas: 1, log };
    return openKv(nc, 'rateLimits', opts);
  }

  /** A gateway app as main.ts wires it (auth, shared limits, security headers, the web app), on a free port. */
  async function gateway(o: { requestsPerMinute?: number; authFailuresPerMinute?: number; trustProxy?: string } = {}): Promise<string> {
    const kv = await replicaKv();
    const { limiter, throttle } = await createLimits({ kv, requestsPerMinute: o.requestsPerMinute ?? 1000, authFailuresPerMinute: o.authFailuresPerMinute ?? 20, metrics: new Registry(), log });
    stops.push(() => throttle.stop());
    const auth = new Authenticator(new ApiKeys(`ops:${ADMIN_KEY}`), new RoomTokens(SECRET), { throttle, clientOf: clientAddress(o.trustProxy ?? '') });
    const api = new ApiRouter();
    api.route({ method: 'get', path: '/rooms/:room/thing', tag: 't', summary: 'a room route', access: 'room' }, (req) => ({ room: req.params.room }));
    api.route({ method: 'get', path: '/admin-thing', tag: 't', summary: 'an admin route', access: 'admin' }, () => ({ ok: true }));
    api.route({ method: 'get', path: '/rooms/:room/page', tag: 't', summary: 'a page opened as a link', access: 'room', link: true }, (req) => ({ page: req.params.room }));
    const app = createApp({ healthHandler: () => false, webRoot, log, api, auth, corsOrigins: '', limiter, rateLimitPerMinute: o.requestsPerMinute ?? 1000, bodyLimitBytes: 1024, version: '0' });
    const { server, port } = await listenHttp(app, 0, '127.0.0.1');
    servers.push(server);
    return `http://127.0.0.1:${port}`;
  }

  const get = (base: string, p: string, headers: Record<string, string> = {}) => fetch(`${base}${p}`, { headers });
  const codeOf = async (r: Response) => ((await r.json()) as { error?: { code: string; message: string } }).error;

  beforeAll(async () => {
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
    nats = await startNatsServer();
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops) stop();
    await Promise.all(servers.map((s) => closeHttp(s)));
    await Promise.all(conns.map((c) => c.close()));
    await nats?.stop();
    await stopAllProcesses();
    fs.rmSync(webRoot, { recursive: true, force: true });
  });

  it('two limiters on one NATS spend one budget (compare-and-set, no token spent twice)', async () => {
    const a = new SharedBuckets(await replicaKv(), { capacity: 30, prefix: 'req', timeoutMs: 10_000 });
    const b = new SharedBuckets(await replicaKv(), { capacity: 30, prefix: 'req', timeoutMs: 10_000 });
    const now = Date.now();
    // Both replicas at once, interleaved: 60 takes against a budget of 30.
    const takes = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).take('k:shared', now)));
    expect(takes.every((t) => t.shared)).toBe(true);
    expect(takes.filter((t) => t.ok)).toHaveLength(30);
    const refused = takes.find((t) => !t.ok)!;
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(1);
    // Another id has its own budget; the budget refills with time (a token every 2 s at 30/min).
    expect((await a.take('k:other', now)).ok).toBe(true);
    expect((await b.take('k:shared', now + 2_100)).ok).toBe(true);
    expect((await a.take('k:shared', now + 2_100)).ok).toBe(false);
  }, 30_000);

  it('falls back to the replica\'s own bucket when NATS does not answer (fail-open to per-replica limits)', async () => {
    const nc = await connect({ servers: nats.url });
    const kv = await openKv(nc, 'rateLimits', { service: 'gateway', replicas: 1, log });
    await nc.close();
    const fallbacks: string[] = [];
    const lonely = new SharedBuckets(kv, { capacity: 2, prefix: 'req', timeoutMs: 500, onFallback: (err) => fallbacks.push(err.message) });
    const takes = [await lonely.take('x'), await lonely.take('x'), await lonely.take('x')];
    expect(takes.map((t) => [t.ok, t.shared])).toEqual([
      [true, false],
      [true, false],
      [false, false],
    ]);
    expect(fallbacks).toHaveLength(3);
  }, 30_000);

  it('the REST request limit holds across two gateways', async () => {
    const [one, two] = [await gateway({ requestsPerMinute: 20 }), await gateway({ requestsPerMinute: 20 })];
    const token = await new RoomTokens(SECRET).sign({ room: 'r1', role: 'viewer', peer: 'hammer', exp: Math.floor(Date.now() / 1000) + 600 });
    const statuses: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 30; i++) statuses.push((await get(i % 2 ? one : two, '/api/v1/rooms/r1/thing', { authorization: `Bearer ${token}` })).status);
    // The bucket refills continuously (one every 3 s): a slow machine may see one more pass per 3 s taken.
    const refilled = Math.ceil((Date.now() - start) / 3000);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20 + refilled);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // One gateway alone would have let 20 through itself: 2 × 20 = 40 > 30 requests.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10 - refilled);
  }, 60_000);

  it('counts per client address: behind a trusted proxy each forwarded client has its own budget', async () => {
    const base = await gateway({ authFailuresPerMinute: 3, trustProxy: '127.0.0.1' });
    const from = (client: string, key: string) => get(base, '/api/v1/admin-thing', { 'x-api-key': key, 'x-forwarded-for': client });
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.7', `wrong-key-aaaaaaaaaa${i}`)).status).toBe(401);
    expect((await from('203.0.113.7', 'wrong-key-aaaaaaaaaa9')).status).toBe(429);
    expect((await from('203.0.113.8', ADMIN_KEY)).status).toBe(200);
    // Expired tokens were genuine once: they are not guesses.
    const expired = await new RoomTokens(SECRET).sign({ room: 'r1', role: 'viewer', peer: 'late', exp: Math.floor(Date.now() / 1000) - 5 });
    for (let i = 0; i < 5; i++) expect((await get(base, '/api/v1/rooms/r1/thing', { authorization: `Bearer ${expired}`, 'x-forwarded-for': '203.0.113.9' })).status).toBe(401);
  }, 60_000);

  it('refuses the admin key as ?token= on REST, naming the headers to use; a room token there only on pages opened as links', async () => {
    const base = await gateway();
    const r = await get(base, `/api/v1/admin-thing?token=${ADMIN_KEY}`);
    expect(r.status).toBe(401);
    expect(await codeOf(r)).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/not accepted in the URL.*Authorization: Bearer/) });
    expect((await get(base, '/api/v1/admin-thing', { authorization: `Bearer ${ADMIN_KEY}` })).status).toBe(200);
    expect((await get(base, '/api/v1/admin-thing', { 'x-api-key': ADMIN_KEY })).status).toBe(200);
    const viewer = await new RoomTokens(SECRET).sign({ room: 'r1', role: 'viewer', peer: 'link', exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await get(base, `/api/v1/rooms/r1/page?token=${viewer}`)).status).toBe(200);
    const notALink = await get(base, `/api/v1/rooms/r1/thing?token=${viewer}`);
    expect(notALink.status).toBe(401);
    expect(await codeOf(notALink)).toMatchObject({ code: 'unauthorized', field: 'token', message: expect.stringMatching(/only on pages opened as links/) });
    expect((await get(base, '/api/v1/rooms/r1/thing', { authorization: `Bearer ${viewer}` })).status).toBe(200);
    // Not even on a link: the admin key never in a URL.
    expect((await get(base, `/api/v1/rooms/r1/page?token=${ADMIN_KEY}`)).status).toBe(401);
  }, 60_000);

  it('sends CSP, X-Frame-Options, nosniff and no Referer for the app and everything else', async () => {
    const base = await gateway();
    for (const p of ['/', '/index.html']) {
      const page = await get(base, p);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-(inline|eval)/);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    for (const p of ['/docs', '/api/v1/admin-thing', '/no-such-file']) {
      const r = await get(base, p);
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  }, 60_000);
  // Last: it leaves 127.0.0.1 blocked in the shared bucket for a minute.
  it('200 wrong keys from one address end in 429s, shared by both gateways; a right key is refused too until the budget refills', async () => {
    const [one, two] = [await gateway({ authFailuresPerMinute: 10 }), await gateway({ authFailuresPerMinute: 10 })];
    const statuses: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 200; i++) statuses.push((await get(i % 2 ? one : two, '/api/v1/admin-thing', { 'x-api-key': `wrong-key-${String(i).padStart(12, '0')}` })).status);
    // A guess refills every 6 s at 10/min: a slow machine may see one more 401 per 6 s taken.
    const refilled = Math.ceil((Date.now() - start) / 6000);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10 + refilled);
    expect(statuses.filter((s) => s !== 401).every((s) => s === 429)).toBe(true);
    expect(statuses.slice(-50).filter((s) => s === 429).length).toBeGreaterThanOrEqual(50 - refilled);
    const blocked = await get(one, '/api/v1/admin-thing', { 'x-api-key': ADMIN_KEY });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await codeOf(blocked)).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/refused credentials from this address/) });
    // Forged tokens are guesses too; on the other gateway as well.
    expect((await get(two, '/api/v1/rooms/r1/thing', { authorization: 'Bearer a.b.c' })).status).toBe(429);
  }, 120_000);
});
