import fs from 'node:fs';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import sharp from 'sharp';
import { API_PREFIX, ClientMessage, sfuRequests, WS_CLOSE, WS_PATH, type ServerMessage, type SfuOp } from '@lookout/contracts';
import {
  FIXTURES,
  ROOT,
  TEST_ADMIN_KEY,
  TEST_GATEWAY_ENV,
  TestWsClient,
  apiCall,
  isAck,
  isAnalysis,
  isError,
  roomToken,
  startNatsServer,
  startService,
  stopAllProcesses,
  type ApiResponse,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

/**
 * Issue 17: the role matrix of docs/gateway.md ("Roles"), proved against a running gateway.
 * Every operation of /openapi.json and every WebSocket client message (every SFU op of
 * `signal`) is tried with every credential form; what each form must get comes from the
 * two tables below, which mirror the docs (the first is also checked against the docs'
 * table itself). A route or message without a row fails the test.
 */

// ---------------------------------------------------------------------------------------
// The matrix (docs/gateway.md, "Roles" and "WebSocket")
// ---------------------------------------------------------------------------------------

/** yes: allowed; no: 403 forbidden; own: a publisher only for sessions its own peer started (403 otherwise). */
type Cell = 'yes' | 'no' | 'own';
type Role = 'admin' | 'publisher' | 'viewer';
type Row = Record<Role, Cell>;

const ADMIN: Row = { admin: 'yes', publisher: 'no', viewer: 'no' };
const ROOM_READ: Row = { admin: 'yes', publisher: 'yes', viewer: 'yes' };
const REPORTS: Row = { admin: 'yes', publisher: 'own', viewer: 'yes' };

/** REST: `METHOD /path` (as in /openapi.json, without /api/v1) → who may call it. */
const REST: Record<string, Row> = {
  'POST /tokens': ADMIN,
  'POST /rooms': ADMIN,
  'GET /rooms': ADMIN,
  'DELETE /rooms/{room}': ADMIN,
  'GET /rooms/{room}': ROOM_READ,
  'GET /rooms/{room}/config': ROOM_READ,
  'PUT /rooms/{room}/config': ADMIN,
  'PUT /rooms/{room}/sample-rate': ADMIN,
  'POST /rooms/{room}/ingest': ADMIN,
  'DELETE /rooms/{room}/ingest/{stream}': ADMIN,
  'POST /analyze': ADMIN,
  'POST /gallery/subjects': ADMIN,
  'GET /gallery/subjects': ADMIN,
  'GET /gallery/subjects/{subject}': ADMIN,
  'PATCH /gallery/subjects/{subject}': ADMIN,
  'DELETE /gallery/subjects/{subject}': ADMIN,
  'POST /gallery/subjects/{subject}/images': ADMIN,
  'POST /gallery/subjects/{subject}/negatives': ADMIN,
  'POST /gallery/jobs': ADMIN,
  'GET /gallery/jobs/{job}': ADMIN,
  'POST /webhooks': ADMIN,
  'GET /webhooks': ADMIN,
  'GET /webhooks/{hook}': ADMIN,
  'DELETE /webhooks/{hook}': ADMIN,
  'POST /webhooks/{hook}/enable': ADMIN,
  'GET /webhooks/{hook}/deliveries': ADMIN,
  'GET /sessions': ADMIN,
  // A publisher's session follows the room config: `rules` and `expectedSubjectId` are 403 (PUBLISHER_MAY_NOT).
  'POST /sessions': { admin: 'yes', publisher: 'yes', viewer: 'no' },
  'GET /sessions/{session}': ROOM_READ,
  'GET /sessions/{session}/live': REPORTS,
  'GET /sessions/{session}/report': REPORTS,
  'GET /sessions/{session}/report.html': REPORTS,
  'GET /sessions/{session}/attendance.csv': REPORTS,
  'POST /sessions/{session}/end': { admin: 'yes', publisher: 'own', viewer: 'no' },
  'POST /jobs': ADMIN,
  'GET /jobs': ADMIN,
  'GET /jobs/{job}': ADMIN,
  'POST /jobs/{job}/cancel': ADMIN,
  'DELETE /jobs/{job}': ADMIN,
  // A viewer of the job's own room (rec-<job>) may: not the matrix's room (gateway-jobs-api.test.ts tries that one).
  'GET /jobs/{job}/video': ADMIN,
};

/** Admin-only for the matrix's room, but open to a token of another room that the route names (its x-access says which). */
const OTHER_ROOMS_ROUTE = new Set(['GET /jobs/{job}/video']);

/** What a publisher may not put in `POST /sessions` (403 naming the field, whatever the value). */
const PUBLISHER_MAY_NOT: Record<string, unknown> = { rules: { no_face: { frames: 10000 } }, expectedSubjectId: 'nobody' };

/**
 * WebSocket: a message (and for `signal`, its op) → may a socket of this role in the room
 * send it. Refused: `error forbidden`, then close 4403.
 */
const VIEW: Record<Role, boolean> = { admin: true, publisher: true, viewer: true };
const PRODUCE: Record<Role, boolean> = { admin: true, publisher: true, viewer: false };
const CONTROL: Record<Role, boolean> = { admin: true, publisher: false, viewer: false };
/** Receiving media: the people watching the room, not the person proctored (who would see the other candidates). */
const RECEIVE: Record<Role, boolean> = { admin: true, publisher: false, viewer: true };
const WS: Record<string, Record<Role, boolean>> = {
  join: VIEW,
  ping: VIEW,
  subscribe: VIEW,
  'subscribe preview': { admin: true, publisher: false, viewer: true },
  unsubscribe: VIEW,
  frame: PRODUCE,
  'signal getRouterRtpCapabilities': VIEW,
  'signal createWebRtcTransport recv': RECEIVE,
  'signal createWebRtcTransport send': PRODUCE,
  'signal connectTransport': VIEW,
  'signal restartIce': VIEW,
  'signal closeTransport': VIEW,
  'signal consume': RECEIVE,
  'signal resumeConsumer': RECEIVE,
  'signal listStreams': VIEW,
  'signal getRoom': VIEW,
  'signal produce': PRODUCE,
  'signal closeProducer': PRODUCE,
  'signal createRoom': CONTROL,
  'signal setSampleRate': CONTROL,
  'signal ingest': CONTROL,
  'signal stopIngest': CONTROL,
  // Last: the admin's socket closes its own room with it.
  'signal closeRoom': CONTROL,
};

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

const ROOM = 'matrix';
const OTHER = 'matrix-other';
const PEER = 'pub-1';
const SECRET_OTHER = 'another-secret-0123456789abcdef';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
/** A token with `alg: none` (no signature): jose must refuse it whatever its claims. */
function unsignedToken(room: string): string {
  return `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64(JSON.stringify({ room, role: 'publisher', peer: PEER, exp: Math.floor(Date.now() / 1000) + 600 }))}.`;
}
/** A token signed with HS512 by the right secret: only HS256 is accepted. */
function hs512Token(room: string): string {
  const head = `${b64(JSON.stringify({ alg: 'HS512', typ: 'JWT' }))}.${b64(JSON.stringify({ room, role: 'viewer', peer: 'v', exp: Math.floor(Date.now() / 1000) + 600 }))}`;
  return `${head}.${createHmac('sha512', TEST_GATEWAY_ENV.TOKEN_SECRET).update(head).digest('base64url')}`;
}

/** A credential form that must be refused with 401 on every route, and the code it gets. */
interface BadForm {
  name: string;
  code: 'unauthorized' | 'invalid_token' | 'token_expired';
  /** REST: the header (or none); `inQuery`: sent as `?token=`. */
  credential: string | null;
  inQuery?: boolean;
}
const BAD_FORMS: BadForm[] = [
  { name: 'no credential', code: 'unauthorized', credential: null },
  { name: 'unknown API key', code: 'unauthorized', credential: 'not-a-key-0123456789' },
  { name: 'malformed token', code: 'invalid_token', credential: 'a.b.c' },
  { name: 'wrong signature', code: 'invalid_token', credential: roomToken(ROOM, 'publisher', { peer: PEER, secret: SECRET_OTHER }) },
  { name: 'alg none', code: 'invalid_token', credential: unsignedToken(ROOM) },
  { name: 'alg HS512', code: 'invalid_token', credential: hs512Token(ROOM) },
  { name: 'expired publisher token', code: 'token_expired', credential: roomToken(ROOM, 'publisher', { peer: PEER, expiresInS: -5 }) },
  { name: 'expired viewer token', code: 'token_expired', credential: roomToken(ROOM, 'viewer', { expiresInS: -5 }) },
  // Admin keys are not accepted in URLs on REST (the WebSocket URL still takes one).
  { name: 'admin key as ?token=', code: 'unauthorized', credential: TEST_ADMIN_KEY, inQuery: true },
];

const TOKENS: Record<Role, string> = {
  admin: TEST_ADMIN_KEY,
  publisher: roomToken(ROOM, 'publisher', { peer: PEER }),
  viewer: roomToken(ROOM, 'viewer', { peer: 'view-1' }),
};
/** Valid tokens of another room: the same peer name as the room's publisher, so only the room differs. */
const OTHER_ROOM: Record<'publisher' | 'viewer', string> = {
  publisher: roomToken(OTHER, 'publisher', { peer: PEER }),
  viewer: roomToken(OTHER, 'viewer', { peer: 'view-1' }),
};

type ErrorBody = { error: { code: string; message: string; field?: string } };
type Outcome = { status: number; code?: string; field?: string; message?: string };

describe('role matrix (issue 17): every REST route and WebSocket message × every role and credential form (real nats-server, sfu, reid, gateway)', () => {
  let nats: NatsServer;
  let gateway: RunningService;
  const services: RunningService[] = [];
  let base: string;
  let wsUrl: string;
  let doc: { paths: Record<string, Record<string, { 'x-access'?: string; security?: Array<Record<string, unknown>>; requestBody?: { content: Record<string, unknown> } }>> };
  /** Sessions of ROOM by who started them: the matrix's "own" is about this. */
  const sessions: Record<'admin' | 'own' | 'otherPeer', string> = { admin: '', own: '', otherPeer: '' };
  let hook = '';
  let streamNo = 0;
  const fresh = (prefix: string) => `${prefix}-${++streamNo}`;

  beforeAll(async () => {
    nats = await startNatsServer();
    services.push(
      ...(await Promise.all([
        startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-matrix', RATE_LIMIT_PER_MINUTE: '100000', WS_HEARTBEAT_MS: '60000' }),
        startService('sfu', nats.url, { INSTANCE_ID: 'sfu-matrix', MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }),
        startService('reid', nats.url, { MAX_FRAME_AGE_MS: '3600000' }),
        // Analyses uploaded frames: what a publisher's feed shows of the gallery (below).
        startService('detector', nats.url, { MAX_FRAME_AGE_MS: '3600000' }),
      ])),
    );
    gateway = services[0]!;
    base = `http://127.0.0.1:${gateway.httpPort}`;
    wsUrl = `ws://127.0.0.1:${gateway.httpPort}${WS_PATH}`;
    const openapi = await apiCall<typeof doc>(base, 'GET', '/openapi.json', { auth: null });
    expect(openapi.status).toBe(200);
    doc = openapi.body;

    // What the routes act on: the room, sessions started by an admin, by the publisher's peer and by another peer, a webhook.
    for (const room of [ROOM, OTHER]) expect((await apiCall(base, 'POST', '/rooms', { json: { room } })).status).toBe(201);
    const start = async (auth: string, stream: string) => {
      const r = await apiCall<{ sessionId: string }>(base, 'POST', '/sessions', { auth, json: { room: ROOM, stream } });
      expect(r.status).toBe(201);
      return r.body.sessionId;
    };
    sessions.admin = await start(TEST_ADMIN_KEY, 'cam-admin');
    sessions.own = await start(TOKENS.publisher, 'cam-own');
    sessions.otherPeer = await start(roomToken(ROOM, 'publisher', { peer: 'pub-2' }), 'cam-peer-2');
    const created = await apiCall<{ id: string }>(base, 'POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/hook', events: ['alert'], secret: 'matrix-secret-0123456789' } });
    expect(created.status).toBe(201);
    hook = created.body.id;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
  });

  // -------------------------------------------------------------------------------------
  // REST
  // -------------------------------------------------------------------------------------

  /** Every operation of the OpenAPI document as `METHOD /path`. */
  const operations = (): string[] =>
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.slice(API_PREFIX.length)}`));

  /** Path parameters: ids in the room under test (existing where the matrix depends on them), or dummies. */
  function fill(route: string, session: string): string {
    const ids: Record<string, string> = { room: ROOM, stream: 'cam-none', session, subject: 'nobody', job: 'no-job', hook };
    return route.replace(/\{(\w+)\}/g, (_m, name: string) => {
      const id = ids[name];
      if (id === undefined) throw new Error(`${route}: no id for path parameter {${name}}: add one to fill()`);
      return id;
    });
  }

  /** One call of `route` (`METHOD /path`) with `credential` (null: none). */
  async function call(route: string, credential: string | null, opts: { session?: string; inQuery?: boolean; body?: Record<string, unknown> } = {}): Promise<Outcome> {
    const [method, template] = route.split(' ') as [string, string];
    let p = fill(template, opts.session ?? sessions.admin);
    const content = doc.paths[API_PREFIX + template]?.[method.toLowerCase()]?.requestBody?.content ?? {};
    const init: Parameters<typeof apiCall>[3] = { auth: opts.inQuery ? null : credential };
    if (route === 'POST /sessions') init.json = { room: ROOM, stream: fresh('cam'), ...opts.body };
    else if ('application/json' in content) init.json = {};
    else if ('image/jpeg' in content) Object.assign(init, { body: Buffer.alloc(0), headers: { 'content-type': 'image/jpeg' } });
    if (opts.inQuery && credential) p += `?token=${encodeURIComponent(credential)}`;
    const r: ApiResponse<ErrorBody> = await apiCall<ErrorBody>(base, method, p, init);
    const e = typeof r.body === 'object' ? r.body?.error : undefined;
    return { status: r.status, ...(e ? { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } : {}) };
  }

  /** The session variants a session route is tried on: started by an admin, by this publisher's peer, by another peer. */
  const variants = (route: string): Array<[string, string | undefined]> =>
    route.includes('{session}') ? (Object.entries(sessions) as Array<[string, string]>) : [['-', undefined]];

  const cellFor = (row: Row, role: Role, variant: string): 'allowed' | 'forbidden' => {
    const cell = row[role];
    if (cell === 'own') return variant === 'own' ? 'allowed' : 'forbidden';
    return cell === 'yes' ? 'allowed' : 'forbidden';
  };

  function check(route: string, who: string, variant: string, got: Outcome, want: 'allowed' | 'forbidden' | 'not_found' | BadForm['code']): void {
    const where = `${route} (session ${variant}) as ${who}: got ${got.status} ${got.code ?? ''} ${got.message ?? ''}`;
    if (want === 'allowed') {
      // Allowed: no auth refusal. A 4xx for the empty body or an unknown id is fine; a session route's 404 is its refusal.
      if ([401, 403, 429].includes(got.status) || got.status >= 500 || (variant !== '-' && got.status === 404)) throw new Error(`expected allowed: ${where}`);
    } else if (want === 'forbidden') {
      if (got.status !== 403 || got.code !== 'forbidden') throw new Error(`expected 403 forbidden: ${where}`);
    } else if (want === 'not_found') {
      if (got.status !== 404 || got.code !== 'not_found') throw new Error(`expected 404 not_found (as for an unknown id): ${where}`);
    } else if (got.status !== 401 || got.code !== want) throw new Error(`expected 401 ${want}: ${where}`);
  }

  it('every route of the OpenAPI document has a row, and every row a route; x-access agrees', () => {
    const routes = operations();
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => !(r in REST))).toEqual([]);
    expect(Object.keys(REST).filter((r) => !routes.includes(r))).toEqual([]);
    // An admin-only row is `x-access: admin…` in the document, and the other way round.
    for (const r of routes) {
      const [method, p] = r.split(' ') as [string, string];
      const access = doc.paths[API_PREFIX + p]![method.toLowerCase()]!['x-access'] ?? '';
      const adminOnly = REST[r]!.publisher === 'no' && REST[r]!.viewer === 'no' && !OTHER_ROOMS_ROUTE.has(r);
      expect(`${r}: ${access.startsWith('admin') && !/token|publisher|viewer/.test(access)}`).toBe(`${r}: ${adminOnly}`);
    }
  });

  it('the table mirrors docs/gateway.md\'s Roles table', () => {
    expect(docsMatrix(operations())).toEqual(Object.fromEntries(operations().map((r) => [r, REST[r]])));
  });

  it('admin, publisher and viewer of the room get what the matrix says on every route', async () => {
    const ordered = lastDestructive(operations());
    for (const route of ordered) {
      for (const [variant, session] of variants(route)) {
        for (const role of ['publisher', 'viewer', 'admin'] as const) {
          check(route, role, variant, await call(route, TOKENS[role], { ...(session ? { session } : {}) }), cellFor(REST[route]!, role, variant));
        }
      }
    }
    // The admin closed the room last: open it again for what follows.
    expect((await apiCall(base, 'POST', '/rooms', { json: { room: ROOM } })).status).toBe(201);
  }, 60_000);

  it('no, malformed, forged, expired credentials and an admin key in the URL get 401 on every route', async () => {
    for (const route of operations()) {
      for (const [variant, session] of variants(route)) {
        for (const form of BAD_FORMS) check(route, form.name, variant, await call(route, form.credential, { ...(session ? { session } : {}), ...(form.inQuery ? { inQuery: true } : {}) }), form.code);
      }
    }
  }, 60_000);

  it('a room token as ?token= counts as in the header on routes opened as links (linkToken in the document) only; elsewhere 401', async () => {
    const links = operations().filter((r) => {
      const [method, p] = r.split(' ') as [string, string];
      return (doc.paths[API_PREFIX + p]![method.toLowerCase()]!.security ?? []).some((s) => 'linkToken' in s);
    });
    expect(links.sort()).toEqual(['GET /jobs/{job}/video', 'GET /sessions/{session}/attendance.csv', 'GET /sessions/{session}/report.html']);
    for (const route of lastDestructive(operations())) {
      for (const [variant, session] of variants(route)) {
        for (const role of ['publisher', 'viewer'] as const) {
          const query = await call(route, TOKENS[role], { ...(session ? { session } : {}), inQuery: true });
          if (!links.includes(route)) {
            expect({ route, role, query }).toMatchObject({ route, role, query: { status: 401, code: 'unauthorized', field: 'token' } });
            continue;
          }
          const header = await call(route, TOKENS[role], session ? { session } : {});
          expect(`${route} [${variant}] ${role}: ${query.status} ${query.code ?? ''}`).toBe(`${route} [${variant}] ${role}: ${header.status} ${header.code ?? ''}`);
        }
      }
    }
  }, 60_000);

  it('a valid token of another room gets 403 on every room route, and on a session the very 404 an unknown id gets', async () => {
    for (const route of operations()) {
      for (const [variant, session] of variants(route)) {
        for (const [role, token] of Object.entries(OTHER_ROOM)) {
          const got = await call(route, token, session ? { session } : {});
          if (!session) {
            check(route, `${role} of another room`, variant, got, 'forbidden');
            continue;
          }
          check(route, `${role} of another room`, variant, got, 'not_found');
          // Nothing tells an existing session from an unknown one.
          const unknown = await call(route, token, { session: `no-such-${session}` });
          expect({ ...got, message: got.message?.replace(session, '<id>') }).toEqual({ ...unknown, message: unknown.message?.replace(`no-such-${session}`, '<id>') });
        }
      }
    }
  }, 60_000);

  it('POST /sessions: a publisher may not set rules or name the expected subject (403 naming the field); an admin may', async () => {
    for (const [field, value] of Object.entries(PUBLISHER_MAY_NOT)) {
      expect(await call('POST /sessions', TOKENS.publisher, { body: { [field]: value } })).toMatchObject({ status: 403, code: 'forbidden', field });
    }
    // The admin's subject check answers (the publisher's 403 above came before it, for any id).
    expect(await call('POST /sessions', TEST_ADMIN_KEY, { body: PUBLISHER_MAY_NOT })).toMatchObject({ status: 422, code: 'unknown_subject' });
    // The room of the body is the token's: another room's publisher is refused.
    expect(await call('POST /sessions', OTHER_ROOM.publisher)).toMatchObject({ status: 403, code: 'forbidden', field: 'room' });
  });

  // -------------------------------------------------------------------------------------
  // WebSocket
  // -------------------------------------------------------------------------------------

  const open: TestWsClient[] = [];
  const connect = async (token?: string) => {
    const c = await TestWsClient.connect(wsUrl, token !== undefined ? { token } : {});
    open.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  let jpeg: Buffer;
  /** The message each WS action sends (an `id` is added); `room` is where the socket acts. */
  function message(action: string, room: string, peer: string): Record<string, unknown> {
    if (action === 'join') return { type: 'join', room };
    if (action === 'ping') return { type: 'ping' };
    if (action === 'subscribe') return { type: 'subscribe', room };
    if (action === 'subscribe preview') return { type: 'subscribe', room, feeds: ['preview'] };
    if (action === 'unsubscribe') return { type: 'unsubscribe', room };
    if (action === 'frame') return { type: 'frame', room, stream: `up-${peer}`, seq: ++streamNo, captureMs: Date.now() };
    const [, op, direction] = action.split(' ') as [string, SfuOp, string | undefined];
    const data: Record<string, Record<string, unknown>> = {
      getRouterRtpCapabilities: {},
      createWebRtcTransport: { direction: direction ?? 'recv' },
      connectTransport: { transportId: 'no-transport', dtlsParameters: {} },
      restartIce: { transportId: 'no-transport' },
      closeTransport: { transportId: 'no-transport' },
      consume: { transportId: 'no-transport', producerId: 'no-producer', rtpCapabilities: {} },
      resumeConsumer: { consumerId: 'no-consumer' },
      listStreams: {},
      getRoom: {},
      produce: { transportId: 'no-transport', stream: 'cam-x', kind: 'video', rtpParameters: {} },
      closeProducer: { producerId: 'no-producer' },
      createRoom: {},
      setSampleRate: { fps: 2 },
      // Refused by the SFU's own checks (no such file, unknown stream) after the role check.
      ingest: { stream: 'ingest-x', url: 'no/such/file.webm' },
      stopIngest: { stream: 'ingest-x' },
      closeRoom: {},
    };
    return { type: 'signal', room, op, data: data[op] };
  }

  /** Sends an action; its reply (ack, signal or error), and for frames the JPEG after the header. */
  async function send(c: TestWsClient, action: string, room: string, peer: string) {
    const msg = message(action, room, peer);
    const id = `m${++streamNo}`;
    if (action === 'frame') {
      c.send({ ...msg, id });
      c.sendBinary(jpeg);
      return c.next((m): m is ServerMessage => 'id' in m && m.id === id);
    }
    return c.request({ ...msg, id });
  }

  /** A socket of `role` joined to its room (the admin's own room, where closeRoom harms no one). */
  async function joined(role: Role): Promise<{ c: TestWsClient; room: string; peer: string }> {
    const c = await connect();
    const room = role === 'admin' ? `${ROOM}-admin` : ROOM;
    const ack = await c.join(room, TOKENS[role]);
    expect(ack).toMatchObject({ role, room });
    return { c, room, peer: ack.peer! };
  }

  async function expectRefused(c: TestWsClient, reply: unknown, code: string, closeCode: number, where: string) {
    expect({ where, reply }).toMatchObject({ where, reply: { type: 'error', code } });
    expect({ where, close: (await c.closed).code }).toEqual({ where, close: closeCode });
  }

  it('the WebSocket table mirrors docs/gateway.md\'s', () => {
    expect(docsWs()).toEqual(WS);
  });

  it('every WebSocket client message and every SFU op has a row', () => {
    const types = (ClientMessage as unknown as { anyOf: Array<{ properties: { type: { const: string } } }> }).anyOf.map((s) => s.properties.type.const);
    const rowTypes = new Set(Object.keys(WS).map((a) => a.split(' ')[0]));
    expect(types.filter((t) => !rowTypes.has(t))).toEqual([]);
    expect([...rowTypes].filter((t) => !types.includes(t!))).toEqual([]);
    const ops = new Set(Object.keys(WS).filter((a) => a.startsWith('signal ')).map((a) => a.split(' ')[1]));
    expect(Object.keys(sfuRequests).filter((op) => !ops.has(op))).toEqual([]);
  });

  it('admin, publisher and viewer sockets may send what the matrix says; a refusal is forbidden and closes 4403', async () => {
    jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const outcomes: string[] = [];
    for (const role of ['admin', 'publisher', 'viewer'] as const) {
      // Allowed actions share one socket (their non-auth errors leave it open); each refusal gets its own.
      const allowed = await joined(role);
      for (const [action, row] of Object.entries(WS)) {
        if (action === 'join') continue;
        const where = `${action} as ${role}`;
        if (row[role]) {
          const reply = await send(allowed.c, action, allowed.room, allowed.peer);
          outcomes.push(`${where}: ${reply.type}${reply.type === 'error' ? ` ${reply.code}` : ''}`);
          expect({ where, refused: reply.type === 'error' && ['forbidden', 'unauthorized'].includes(reply.code) }).toEqual({ where, refused: false });
        } else {
          const s = await joined(role);
          await expectRefused(s.c, await send(s.c, action, s.room, s.peer), 'forbidden', WS_CLOSE.forbidden, where);
        }
      }
      // The socket that did every allowed action is still open.
      expect(await allowed.c.request({ type: 'ping' })).toMatchObject({ type: 'ack', op: 'ping' });
      expect(allowed.c.protocolErrors).toEqual([]);
    }
    // What "allowed" got: the calls that can succeed with these bodies did.
    for (const role of ['admin', 'publisher', 'viewer']) {
      for (const ok of ['subscribe: ack', 'unsubscribe: ack', 'signal getRouterRtpCapabilities: signal', 'signal listStreams: signal', 'signal getRoom: signal']) expect(outcomes).toContain(`${ok.split(':')[0]} as ${role}:${ok.split(':')[1]}`);
    }
    expect(outcomes).toEqual(expect.arrayContaining(['signal createWebRtcTransport recv as admin: signal', 'signal createWebRtcTransport recv as viewer: signal']));
    expect(outcomes).toEqual(expect.arrayContaining(['frame as admin: ack', 'frame as publisher: ack', 'subscribe preview as viewer: ack', 'signal createWebRtcTransport send as publisher: signal', 'signal setSampleRate as admin: signal']));
  }, 60_000);

  it('WebSocket credentials: join and ?token= with bad, expired and other-room credentials are refused (4401 / 4403)', async () => {
    // Valid: a room token for the room, an admin key in join or on the URL (the one place a key may be in a URL).
    for (const role of ['admin', 'publisher', 'viewer'] as const) expect((await (await connect()).join(ROOM, TOKENS[role])).role).toBe(role);
    const byUrl = await connect(TEST_ADMIN_KEY);
    expect(await byUrl.join(ROOM)).toMatchObject({ role: 'admin' });
    const viewerUrl = await connect(TOKENS.viewer);
    expect(await viewerUrl.next(isAck)).toMatchObject({ op: 'join', room: ROOM, role: 'viewer' });

    for (const form of BAD_FORMS) {
      if (form.inQuery) continue; // an admin key on the WebSocket URL is valid (above)
      const c = await connect();
      await expectRefused(c, await c.request({ type: 'join', room: ROOM, ...(form.credential !== null ? { token: form.credential } : {}) }), form.code, WS_CLOSE.unauthorized, `join with ${form.name}`);
      if (form.credential === null) continue;
      const u = await connect(form.credential);
      await expectRefused(u, await u.next(isError), form.code, WS_CLOSE.unauthorized, `?token= ${form.name}`);
    }
    for (const [role, token] of Object.entries(OTHER_ROOM)) {
      const c = await connect();
      await expectRefused(c, await c.request({ type: 'join', room: ROOM, token }), 'forbidden', WS_CLOSE.forbidden, `join with a ${role} token of another room`);
    }
    // A room token names its own peer.
    const c = await connect();
    await expectRefused(c, await c.request({ type: 'join', room: ROOM, token: TOKENS.publisher, peer: 'pub-2' }), 'forbidden', WS_CLOSE.forbidden, 'join as another peer');
  }, 60_000);

  it('a socket without a credential may only ping and join; one joined to another room may act in its room only', async () => {
    jpeg ??= await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    for (const action of Object.keys(WS)) {
      if (action === 'join' || action === 'ping') continue;
      const c = await connect();
      await expectRefused(c, await send(c, action, ROOM, PEER), 'unauthorized', WS_CLOSE.unauthorized, `${action} before join`);
    }
    const idle = await connect();
    expect(await idle.request({ type: 'ping' })).toMatchObject({ type: 'ack', op: 'ping' });

    for (const [role, token] of Object.entries(OTHER_ROOM)) {
      for (const action of Object.keys(WS)) {
        // join: above; ping names no room; unsubscribe only drops this socket's own feeds (acked, nothing to refuse).
        if (['join', 'ping', 'unsubscribe'].includes(action)) continue;
        const c = await connect();
        await c.join(OTHER, token);
        await expectRefused(c, await send(c, action, ROOM, PEER), 'forbidden', WS_CLOSE.forbidden, `${action} in ${ROOM} by a ${role} of ${OTHER}`);
      }
    }
  }, 60_000);

  it('a publisher socket gets only its own streams\' analysis, alerts and metrics, without gallery identities; a viewer of the room gets names', async () => {
    // The subject enrolled; the publisher holds another photo of them up as a frame of its own stream.
    const faces = path.join(FIXTURES, 'faces/identities/barack_obama');
    const enroll = new FormData();
    enroll.append('name', 'Barack Obama');
    enroll.append('subjectId', 'obama');
    for (const f of ['fr_obama2.jpg', 'fr_obama3.jpg']) enroll.append('images', new Blob([new Uint8Array(fs.readFileSync(path.join(faces, f)))], { type: 'image/jpeg' }), f);
    expect((await apiCall(base, 'POST', '/gallery/subjects', { body: enroll })).status).toBe(201);
    const photo = fs.readFileSync(path.join(faces, 'fr_obama1.jpg'));

    const viewer = await connect();
    await viewer.join(ROOM, TOKENS.viewer);
    await viewer.subscribe(ROOM);
    const publisher = await connect();
    expect(await publisher.join(ROOM, TOKENS.publisher)).toMatchObject({ role: 'publisher', peer: PEER });
    await publisher.subscribe(ROOM);
    // Another candidate of the room, with the same photo on its own stream.
    const other = await connect();
    await other.join(ROOM, roomToken(ROOM, 'publisher', { peer: 'pub-3' }));

    const mine = fresh('mine');
    const theirs = fresh('theirs');
    const seen: ServerMessage[] = [];
    // Both keep sending (a frame that waits too long may be dropped by the pipeline) until what is awaited came.
    let seq = 0;
    const sending = setInterval(() => {
      seq++;
      publisher.sendFrame(mine, photo, { seq });
      other.sendFrame(theirs, photo, { seq });
    }, 250);
    try {
      const isMine = (m: ServerMessage): m is Extract<ServerMessage, { type: 'analysis' }> => isAnalysis(m) && m.data.stream === mine;
      await viewer.next((m): m is ServerMessage => isMine(m) && m.data.faces.some((f) => f.identity?.subjectId === 'obama' && f.identity.name === 'Barack Obama'), 90_000);
      // The other candidate's stream is analysed too (the viewer sees it), so its absence below is the filter's.
      await viewer.next((m): m is ServerMessage => isAnalysis(m) && m.data.stream === theirs, 45_000);
      // An own analysis of a frame sent after the viewer's named one: everything before it has come.
      const after = seq;
      await publisher.next((m): m is ServerMessage => isMine(m) && m.data.seq > after, 45_000);
    } finally {
      clearInterval(sending);
    }

    seen.push(...publisher.take((m): m is ServerMessage => ['analysis', 'alert', 'metrics'].includes(m.type)));
    const streams = new Set(seen.map((m) => (m as { data: { stream: string } }).data.stream));
    expect([...streams]).toEqual([mine]);
    expect(seen.filter(isAnalysis).length).toBeGreaterThan(1);
    for (const m of seen.filter(isAnalysis)) {
      for (const f of m.data.faces) expect(f.identity).toBeNull();
      if (m.data.principal) expect(m.data.principal).toMatchObject({ subjectId: null, name: null });
    }
    // Nothing in any message names the subject or carries a similarity to it.
    const text = seen.map((m) => JSON.stringify(m)).join('\n');
    for (const leak of ['obama', 'Obama', 'similarity', 'faceRef']) expect({ leak, found: text.includes(leak) }).toEqual({ leak, found: false });
    expect(publisher.protocolErrors).toEqual([]);
  }, 120_000);

});

/** Routes in the order tried: anything that deletes or ends last, closing the room very last. */
function lastDestructive(routes: string[]): string[] {
  const rank = (r: string) => (r === 'DELETE /rooms/{room}' ? 2 : r.startsWith('DELETE ') || r.endsWith('/end') ? 1 : 0);
  return [...routes].sort((a, b) => rank(a) - rank(b));
}

/** The rows (cells) of the table in docs/gateway.md's Roles section whose first header cell is `header`. */
function docsTable(header: string): string[][] {
  const text = fs.readFileSync(path.join(ROOT, 'docs/gateway.md'), 'utf8');
  const start = text.indexOf('\n## Roles');
  const lines = text.slice(start, text.indexOf('\n## ', start + 1)).split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  if (at < 0) throw new Error(`docs/gateway.md Roles: no table "${header}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** A role cell: `yes…`, `own…` or `—…`. */
function docsCell(s: string): Cell {
  if (s.startsWith('yes')) return 'yes';
  if (s.startsWith('own')) return 'own';
  if (s.startsWith('—')) return 'no';
  throw new Error(`docs/gateway.md Roles: cell "${s}"`);
}

/**
 * The REST table as route → row, for the routes of the OpenAPI document. A route cell
 * lists `METHOD /path` items; an item without a method takes the one before it and
 * replaces its last segment (`/report` after `GET /sessions/:session/live`); an item
 * `/prefix/…` covers every route under the prefix.
 */
function docsMatrix(routes: string[]): Record<string, Row | undefined> {
  const out: Record<string, Row> = {};
  for (const cells of docsTable('route')) {
    const row: Row = { admin: docsCell(cells[1]!), publisher: docsCell(cells[2]!), viewer: docsCell(cells[3]!) };
    let method = '';
    let last = '';
    for (const [, item] of cells[0]!.matchAll(/`([^`]+)`/g)) {
      const m = /^(GET|POST|PUT|PATCH|DELETE) (\S+)$/.exec(item!);
      if (m) [method, last] = [m[1]!, m[2]!.replace(/:(\w+)/g, '{$1}')];
      else if (item!.endsWith('/…')) {
        const prefix = item!.slice(0, -2);
        for (const r of routes) if (r.split(' ')[1] === prefix || r.split(' ')[1]!.startsWith(`${prefix}/`)) out[r] = row;
        continue;
      } else last = last.replace(/\/[^/]+$/, item!);
      out[`${method} ${last}`] = row;
    }
  }
  return Object.fromEntries(routes.map((r) => [r, out[r]]));
}

/**
 * The WebSocket table as action → may each role. A message cell lists `type` items, a
 * qualifier in parentheses after one (`subscribe` (`preview`)); a cell starting with
 * `signal`: lists ops.
 */
function docsWs(): Record<string, Record<Role, boolean>> {
  const out: Record<string, Record<Role, boolean>> = {};
  for (const cells of docsTable('WebSocket message')) {
    const row = { admin: docsCell(cells[1]!) === 'yes', publisher: docsCell(cells[2]!) === 'yes', viewer: docsCell(cells[3]!) === 'yes' };
    const signal = cells[0]!.startsWith('`signal`:');
    const first = cells[0]!.replace(/\s*\(feeds [^)]*\)/, '').replace(/^`signal`:/, '');
    for (const [, item, qualifier] of first.matchAll(/`([^`]+)`(?: \(`([^`]+)`\))?/g)) out[[...(signal ? ['signal'] : []), item, ...(qualifier ? [qualifier] : [])].join(' ')] = row;
  }
  return out;
}
