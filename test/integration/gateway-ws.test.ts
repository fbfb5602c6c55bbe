import fs from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { processRssBytes } from '@lookout/service-kit';
import { jpegSize, PREVIEW_LIMITS, subjects, WS_CLOSE, WS_PATH, type AlertEvent, type AnalysisMessage, type ServerMessage } from '@lookout/contracts';
import {
  FIXTURES,
  isAck,
  isAlert,
  isAnalysis,
  isError,
  isMetrics,
  isSfuEvent,
  metricValue,
  roomToken,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_ADMIN_KEY,
  TEST_GATEWAY_ENV,
  TestWsClient,
  type NatsServer,
  type RunningService,
  type TestWsOptions,
} from '@lookout/testkit';

const SFU = 'sfu-ws';
const STUCK_MS = 2500;
const QUEUE = 64;
/** The fan-out test's bound on the gateway's memory growth (see there). */
const RSS_GROWTH_MAX_MIB = 32;
const face = fs.readFileSync(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama1.jpg'));

/** An analysis message as reid would publish it; `padding` bytes of crop make it bigger. */
const analysis = (room: string, stream: string, seq: number, padding = 0): AnalysisMessage => ({
  room,
  stream,
  seq,
  captureMs: Date.now(),
  width: 640,
  height: 480,
  timings: { detect: 1 },
  faces: padding ? [{ box: [10, 10, 100, 100], score: 0.9, identity: null, crop: { format: 'jpeg', width: 112, height: 112, data: 'A'.repeat(padding) } }] : [],
});
const alert = (room: string, stream: string, seq: number): AlertEvent => ({
  id: `${room}.${stream}.no_face.${seq}`,
  kind: 'no_face',
  severity: 'warning',
  state: 'open',
  room,
  stream,
  startMs: Date.now(),
  startSeq: seq,
  message: 'nobody in view',
});

const isPreview = (m: ServerMessage): m is Extract<ServerMessage, { type: 'preview' }> => m.type === 'preview';
const rssMiB = async (pid: number) => (await processRssBytes(pid))! / 2 ** 20;

describe('gateway WebSocket (real nats-server; gateway, sfu, detector, reid as processes)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let gateway: RunningService;
  let sfu: RunningService;
  let url: string;
  const open: TestWsClient[] = [];

  const connectWs = async (opts?: TestWsOptions, to = url) => {
    const c = await TestWsClient.connect(to, opts);
    open.push(c);
    return c;
  };
  const metrics = async (svc = gateway) => (await svc.get('/metrics')).body;
  /** Polls the gateway's metrics until `ok` holds (a metric is the event awaited). */
  async function metricsUntil(ok: (text: string) => boolean, timeoutMs = 20_000, svc = gateway): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = await metrics(svc);
      if (ok(text)) return text;
      if (Date.now() > end) throw new Error('metrics never reached the expected state');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** Sends `msg` (unless undefined), expects an error with `code`, then the close with `closeCode`. */
  async function refused(c: TestWsClient, msg: object | undefined, code: string, closeCode: number, field?: string) {
    if (msg) c.send(msg);
    const err = await c.next(isError);
    expect(err).toMatchObject({ code, ...(field !== undefined ? { field } : {}) });
    expect((await c.closed).code).toBe(closeCode);
    return err;
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'gateway-ws-test' });
    [gateway, sfu] = await Promise.all([
      startService('gateway', nats.url, {
        ...TEST_GATEWAY_ENV,
        INSTANCE_ID: 'gateway-ws',
        WS_MAX_BUFFERED_BYTES: '65536',
        WS_QUEUE_LENGTH: String(QUEUE),
        WS_STUCK_MS: String(STUCK_MS),
        WS_HEARTBEAT_MS: '60000',
      }),
      startService('sfu', nats.url, { INSTANCE_ID: SFU, MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }),
      startService('detector', nats.url),
      startService('reid', nats.url),
    ]);
    url = `ws://127.0.0.1:${gateway.httpPort}${WS_PATH}`;
  }, 120_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  describe('auth', () => {
    it('refuses a socket without a credential (4401)', async () => {
      await refused(await connectWs(), { type: 'subscribe', room: 'auth' }, 'unauthorized', WS_CLOSE.unauthorized, 'type');
      await refused(await connectWs(), { type: 'join', room: 'auth' }, 'unauthorized', WS_CLOSE.unauthorized, 'token');
    });

    it('refuses malformed, forged and expired tokens, in a join and on the URL (4401)', async () => {
      const join = (token: string) => ({ type: 'join', room: 'auth', token });
      await refused(await connectWs(), join('not-a-token-at-all'), 'unauthorized', WS_CLOSE.unauthorized, 'token');
      await refused(await connectWs(), join('a.b.c'), 'invalid_token', WS_CLOSE.unauthorized, 'token');
      await refused(await connectWs(), join(roomToken('auth', 'viewer', { secret: 'another-secret-0123456789abcdef' })), 'invalid_token', WS_CLOSE.unauthorized);
      await refused(await connectWs(), join(roomToken('auth', 'viewer', { expiresInS: -60 })), 'token_expired', WS_CLOSE.unauthorized);
      await refused(await connectWs({ token: roomToken('auth', 'viewer', { expiresInS: -60 }) }), undefined, 'token_expired', WS_CLOSE.unauthorized);
    });

    it('refuses another room\'s token, reading a room not joined, and frames from a viewer (4403)', async () => {
      const token = roomToken('auth', 'viewer');
      await refused(await connectWs(), { type: 'join', room: 'other', token }, 'forbidden', WS_CLOSE.forbidden, 'room');
      const reader = await connectWs();
      await reader.join('auth', token);
      await refused(reader, { type: 'subscribe', room: 'other' }, 'forbidden', WS_CLOSE.forbidden, 'room');
      const viewer = await connectWs({ token });
      expect(await viewer.next(isAck)).toMatchObject({ op: 'join', room: 'auth', role: 'viewer' });
      await refused(viewer, { type: 'frame', stream: 'cam', seq: 0, captureMs: Date.now() }, 'forbidden', WS_CLOSE.forbidden, 'type');
    });

    it('closes a socket when its room token expires (4401)', async () => {
      const c = await connectWs();
      await c.join('auth', roomToken('auth', 'viewer', { expiresInS: 1 }));
      expect(await c.closed).toMatchObject({ code: WS_CLOSE.unauthorized, reason: expect.stringContaining('expired') });
    });

    it('keeps serving: bad messages are answered and counted, the socket stays open', async () => {
      const c = await connectWs();
      await c.join('auth', roomToken('auth', 'viewer'));
      c.send('not json');
      expect(await c.next(isError)).toMatchObject({ code: 'invalid_message' });
      c.send({ type: 'subscribe', room: 'no.dots>' });
      expect(await c.next(isError)).toMatchObject({ code: 'invalid_message', field: 'room' });
      c.sendBinary(Buffer.from([1, 2, 3]));
      expect(await c.next(isError)).toMatchObject({ code: 'unexpected_binary' });
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'ack', op: 'ping' });
      expect(c.protocolErrors).toEqual([]);
      const text = await metrics();
      expect(metricValue(text, 'lookout_bad_messages_total', { subject_kind: 'ws', reason: 'invalid' })).toBe(2);
      expect(metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'unauthorized' })).toBe(7);
      expect(metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'token_expired' })).toBe(1);
      expect(metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'forbidden' })).toBe(3);
      expect((await gateway.get('/readyz')).status).toBe(200);
    });
  });

  it('200 clients of one room get the same analysis and alert sequence; one that never reads is closed with 4008 without slowing them', async () => {
    const room = 'fanout';
    const stream = 'cam-1';
    await metricsUntil((t) => metricValue(t, 'lookout_gateway_ws_clients') === 0);
    const token = roomToken(room, 'viewer');
    const join = async () => {
      const c = await connectWs();
      await c.join(room, token);
      await c.subscribe(room);
      return c;
    };
    const readers: TestWsClient[] = [];
    for (let i = 0; i < 200; i += 50) readers.push(...(await Promise.all(Array.from({ length: 50 }, join))));
    const stuck = await join();
    stuck.pause();
    // One NATS subscription per kind for the room, whatever the number of sockets.
    expect(metricValue(await metrics(), 'lookout_gateway_ws_room_feeds')).toBe(4);

    const publish = (seq: number, padding: number, alertEvery: number) => {
      nc.publish(subjects.analysis(room, stream), JSON.stringify(analysis(room, stream, seq, padding)));
      if (seq % alertEvery === 0) nc.publish(subjects.alerts(room, stream), JSON.stringify(alert(room, stream, seq)));
    };
    const seen = new Map<TestWsClient, number[]>(readers.map((c) => [c, []]));
    const readTo = async (c: TestWsClient, last: number) => {
      const seqs = seen.get(c)!;
      while (seqs.at(-1) !== last) seqs.push((await c.next(isAnalysis)).data.seq);
    };

    // Phase 1: 60 small messages + 6 alerts to all 201 sockets.
    for (let seq = 0; seq < 60; seq++) publish(seq, 500, 10);
    await Promise.all(readers.map((c) => readTo(c, 59)));
    const sequences = new Set(readers.map((c) => JSON.stringify({ seqs: seen.get(c), alerts: c.take(isAlert).map((a) => a.data.startSeq) })));
    expect([...sequences]).toEqual([JSON.stringify({ seqs: Array.from({ length: 60 }, (_, i) => i), alerts: [0, 10, 20, 30, 40, 50] })]);

    // Phase 2: keep 5 readers and flood 30 KB messages until the unread socket is blocked,
    // then trickle until the gateway gives up on it. The readers must miss nothing.
    await Promise.all(readers.splice(5).map((c) => c.close()));
    const rss0 = await rssMiB(gateway.child.pid!);
    let seq = 60;
    let maxQueued = 0;
    const step = async (n: number) => {
      for (let i = 0; i < n; i++) publish(seq++, 30_000, 25);
      await Promise.all(readers.map((c) => readTo(c, seq - 1)));
      const text = await metrics();
      maxQueued = Math.max(maxQueued, metricValue(text, 'lookout_gateway_ws_queued_messages'));
      return text;
    };
    // The unread socket's queue sheds analysis: superseded by the stream's newer one, then
    // (once alerts, which are kept, fill it) queue_full; stale when it could send again.
    const droppedFor = (t: string) =>
      ['superseded', 'stale', 'queue_full'].reduce((sum, reason) => sum + metricValue(t, 'lookout_gateway_ws_messages_dropped_total', { type: 'analysis', reason }), 0);
    const dropping = (t: string) => droppedFor(t) > 0;
    const cut = (t: string) => metricValue(t, 'lookout_gateway_ws_closes_total', { reason: 'stuck' }) > 0;
    for (let t = await step(20); !dropping(t) && !cut(t); t = await step(20)) {
      if (seq > 5000) throw new Error('the unread socket never filled its queue');
    }
    while (!cut(await step(1))) await new Promise((r) => setTimeout(r, 100));
    await step(10);

    const all = Array.from({ length: seq - 60 }, (_, i) => i + 60);
    const alerts = all.filter((s) => s % 25 === 0);
    for (const c of readers) {
      expect(seen.get(c)!.slice(60)).toEqual(all);
      expect(c.take(isAlert).map((a) => a.data.startSeq)).toEqual(alerts);
      expect(c.protocolErrors).toEqual([]);
    }
    const text = await metrics();
    expect(dropping(text)).toBe(true);
    expect(metricValue(text, 'lookout_gateway_ws_messages_dropped_total', { type: 'alert' })).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(QUEUE * (readers.length + 1));
    // docs/gateway.md: the gateway's memory grows ~10 MiB here (10–13 measured on a loaded
    // 2-core machine). A socket that is not read costs its bounded queue plus
    // WS_MAX_BUFFERED_BYTES; without either bound the same run grows it 74–118 MiB.
    const rss1 = await rssMiB(gateway.child.pid!);
    expect(rss1 - rss0).toBeLessThan(RSS_GROWTH_MAX_MIB);

    // The unread socket, once it reads again: what it got is in order, no alert is missing
    // before the cut, and the close says why.
    stuck.resume();
    const closed = await stuck.closed;
    expect(closed).toMatchObject({ code: WS_CLOSE.stuck, reason: expect.stringContaining('backpressure') });
    const got = stuck.take(isAnalysis).map((m) => m.data.seq);
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got.length).toBeLessThan(seq);
    const gotAlerts = stuck.take(isAlert).map((a) => a.data.startSeq);
    expect(gotAlerts).toEqual([0, 10, 20, 30, 40, 50, ...alerts].slice(0, gotAlerts.length));
    const dropped = droppedFor(text);
    console.log(`fan-out: ${seq} analysis messages; the unread socket got ${got.length} and ${gotAlerts.length} alerts before its 4008, ${dropped} dropped for it; queue peak ${maxQueued}; gateway RSS ${Math.round(rss0)} → ${Math.round(rss1)} MiB`);
  }, 120_000);

  it('sends only the feeds subscribed to, plus the room\'s SFU events', async () => {
    const room = 'feeds';
    const c = await connectWs();
    await c.join(room, roomToken(room, 'viewer'));
    expect(await c.subscribe(room, ['alerts', 'metrics'])).toMatchObject({ op: 'subscribe', feeds: ['alerts', 'metrics'] });
    const second = Math.floor(Date.now() / 1000);
    const scores = { eyeContact: 80, engagement: 70, positivity: 50, postureStability: 90, confidence: 95 };
    // One NATS connection delivers in order: had the analysis been sent, it would come first.
    nc.publish(subjects.analysis(room, 'cam'), JSON.stringify(analysis(room, 'cam', 1)));
    nc.publish(subjects.metrics(room, 'cam'), JSON.stringify({ room, stream: 'cam', second, frames: 5, facesMean: 1, principalPresent: 1, scores, expressions: { neutral: 5 }, latencyMs: 80 }));
    nc.publish(subjects.sfuEvents(room), JSON.stringify({ type: 'stream_state', room, stream: 'cam', state: 'live' }));
    nc.publish(subjects.alerts(room, 'cam'), JSON.stringify(alert(room, 'cam', 1)));
    expect((await c.next(isAlert)).data).toMatchObject({ room, startSeq: 1 });
    expect(c.take(isMetrics).map((m) => m.data.second)).toEqual([second]);
    expect(c.take(isSfuEvent).map((m) => m.data)).toEqual([{ type: 'stream_state', room, stream: 'cam', state: 'live' }]);
    expect(c.take(isAnalysis)).toEqual([]);
    // Data of another room on this room's subject is never shown.
    nc.publish(subjects.alerts(room, 'cam'), JSON.stringify(alert('elsewhere', 'cam', 2)));
    nc.publish(subjects.alerts(room, 'cam'), JSON.stringify(alert(room, 'cam', 3)));
    expect((await c.next(isAlert)).data.startSeq).toBe(3);
    expect(await c.request({ type: 'unsubscribe', room, feeds: ['metrics'] })).toMatchObject({ op: 'unsubscribe', feeds: ['alerts'] });
    expect(c.protocolErrors).toEqual([]);
  });

  it('fallback frame upload: a publisher\'s JPEG over the socket is analysed and reaches a viewer', async () => {
    const room = 'upload';
    const viewer = await connectWs();
    await viewer.join(room, roomToken(room, 'viewer', { peer: 'dashboard' }));
    await viewer.subscribe(room, ['analysis']);
    const publisher = await connectWs();
    expect(await publisher.join(room, roomToken(room, 'publisher', { peer: 'laptop' }))).toMatchObject({ role: 'publisher', peer: 'laptop', sfu: SFU });

    publisher.sendFrame('webcam', Buffer.from('not a jpeg'), { seq: 0, id: 'bad' });
    expect(await publisher.next(isError)).toMatchObject({ id: 'bad', code: 'invalid_frame', field: 'data' });
    publisher.sendFrame('webcam', face, { seq: 1, id: 'f1' });
    expect(await publisher.next(isAck)).toMatchObject({ op: 'frame', id: 'f1', seq: 1 });

    const { data } = await viewer.next(isAnalysis, 45_000);
    expect(data).toMatchObject({ room, stream: 'webcam', seq: 1 });
    expect(data.faces.length).toBeGreaterThanOrEqual(1);
    expect(viewer.protocolErrors).toEqual([]);
    const text = await metrics();
    expect(metricValue(text, 'lookout_gateway_ws_frames_total', { outcome: 'published' })).toBe(1);
    expect(metricValue(text, 'lookout_bad_messages_total', { subject_kind: 'ws', reason: 'bad_frame' })).toBe(1);
  }, 60_000);

  it('a frame sent right behind a join (or a URL token) waits with its JPEG for the credential check and is answered', async () => {
    const room = 'upload-early';
    // join, frame header and JPEG leave in one burst: the gateway reads them while the join's token is still being checked.
    const joiner = await connectWs();
    joiner.send({ type: 'join', room, token: roomToken(room, 'publisher', { peer: 'early' }), id: 'j' });
    joiner.sendFrame('webcam', face, { seq: 0, id: 'early-frame' });
    expect(await joiner.next((m): m is Extract<ServerMessage, { type: 'ack' }> => m.type === 'ack' && m.id === 'j')).toMatchObject({ op: 'join', role: 'publisher' });
    expect(await joiner.next((m): m is ServerMessage => 'id' in m && m.id === 'early-frame', 30_000)).toMatchObject({ type: 'ack', op: 'frame', seq: 0 });
    const onUrl = await connectWs({ token: roomToken(room, 'publisher', { peer: 'url' }) });
    onUrl.sendFrame('cam-url', face, { seq: 0, id: 'url-frame' });
    expect(await onUrl.next((m): m is ServerMessage => 'id' in m && m.id === 'url-frame', 30_000)).toMatchObject({ type: 'ack', op: 'frame', seq: 0 });
    expect([...joiner.take(isError), ...onUrl.take(isError)]).toEqual([]);
  }, 60_000);

  it('preview feed: viewers and admins of the room get uploaded frames downscaled, at most 2 per second; publishers may not ask; other rooms see none', async () => {
    const room = 'previews';
    const viewer = await connectWs();
    await viewer.join(room, roomToken(room, 'viewer', { peer: 'proctor' }));
    // Asked for by name only: the default subscription does not carry pictures.
    expect(await viewer.subscribe(room)).toMatchObject({ feeds: ['analysis', 'alerts', 'metrics'] });
    expect(await viewer.subscribe(room, ['preview'])).toMatchObject({ feeds: ['analysis', 'alerts', 'metrics', 'preview'] });
    const admin = await connectWs({ token: TEST_ADMIN_KEY });
    await admin.join(room);
    await admin.subscribe(room, ['preview']);
    const elsewhere = await connectWs();
    await elsewhere.join('previews-other', roomToken('previews-other', 'viewer'));
    await elsewhere.subscribe('previews-other', ['preview']);
    const intruder = await connectWs();
    await intruder.join('previews-other', roomToken('previews-other', 'viewer'));
    await refused(intruder, { type: 'subscribe', room, feeds: ['preview'] }, 'forbidden', WS_CLOSE.forbidden, 'room');
    const nosy = await connectWs();
    await nosy.join(room, roomToken(room, 'publisher', { peer: 'nosy' }));
    await refused(nosy, { type: 'subscribe', room, feeds: ['preview'] }, 'forbidden', WS_CLOSE.forbidden, 'feeds');

    // A publisher uploads 16 frames at 8 fps (earlier tests' uploads are counted too: deltas).
    const offered = (t: string) => ['published', 'rate_limited', 'busy', 'too_large', 'failed'].reduce((n, outcome) => n + metricValue(t, 'lookout_gateway_ws_previews_total', { outcome }), 0);
    const publishedIn = (t: string) => metricValue(t, 'lookout_gateway_ws_previews_total', { outcome: 'published' });
    const before = await metrics();
    const publisher = await connectWs();
    await publisher.join(room, roomToken(room, 'publisher', { peer: 'laptop' }));
    const started = Date.now();
    const sent = new Map<number, number>();
    for (let seq = 0; seq < 16; seq++) {
      const captureMs = Date.now();
      sent.set(seq, captureMs);
      publisher.sendFrame('exam', face, { seq, captureMs, id: `p${seq}` });
      expect(await publisher.next(isAck)).toMatchObject({ op: 'frame', seq });
      await new Promise((r) => setTimeout(r, 125));
    }
    const elapsedS = (Date.now() - started) / 1000;
    const published = publishedIn(await metricsUntil((t) => offered(t) - offered(before) >= 16)) - publishedIn(before);
    const previews: Array<Extract<ServerMessage, { type: 'preview' }>> = [];
    while (previews.length < published) previews.push(await viewer.next(isPreview));
    // At most 2 a second (the first comes at once), and more than one over 2 s.
    expect(previews.length).toBeGreaterThan(1);
    expect(previews.length).toBeLessThanOrEqual(Math.floor(elapsedS * PREVIEW_LIMITS.maxFps) + 1);
    for (const { data } of previews) {
      expect(data).toMatchObject({ room, stream: 'exam', captureMs: sent.get(data.seq) });
      const jpeg = Buffer.from(data.jpeg, 'base64');
      expect(jpeg.length).toBeLessThanOrEqual(PREVIEW_LIMITS.maxBytes);
      expect(jpegSize(jpeg)).toEqual({ width: data.width, height: data.height });
      expect(data.width).toBeLessThanOrEqual(PREVIEW_LIMITS.maxWidth);
      expect(data.height).toBeLessThanOrEqual(PREVIEW_LIMITS.maxHeight);
    }
    // The admin got the same pictures; the other room's viewer none.
    await admin.next(isPreview);
    expect(elsewhere.take(isPreview)).toEqual([]);
    for (const c of [viewer, admin]) expect(c.protocolErrors).toEqual([]);
    expect(viewer.take(isPreview)).toEqual([]);
    expect(metricValue(await metrics(), 'lookout_gateway_ws_previews_total', { outcome: 'rate_limited' })).toBeGreaterThan(0);
  }, 60_000);

  it('signaling: join places the room on the SFU, ops round-trip, roles and ownership hold, transports close with the socket', async () => {
    const room = 'media';
    const publisher = await connectWs();
    expect(await publisher.join(room, roomToken(room, 'publisher', { peer: 'alice' }))).toMatchObject({ sfu: SFU, role: 'publisher' });
    const caps = await publisher.signal<{ codecs: unknown[] }>('getRouterRtpCapabilities');
    expect(caps.codecs.length).toBeGreaterThan(0);
    const transport = await publisher.signal<{ id: string; iceParameters: unknown }>('createWebRtcTransport', { direction: 'send' });
    expect(transport.iceParameters).toBeDefined();
    expect(await publisher.signal('listStreams')).toEqual([]);
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_webrtc_transports')).toBe(1);

    const viewer = await connectWs();
    await viewer.join(room, roomToken(room, 'viewer', { peer: 'bob' }));
    // Another socket's transport does not exist for this one; a bad body names its field.
    expect(await viewer.request({ type: 'signal', op: 'connectTransport', data: { transportId: transport.id, dtlsParameters: {} } })).toMatchObject({
      type: 'error',
      code: 'unknown_transport',
      field: 'data/transportId',
    });
    expect(await viewer.request({ type: 'signal', op: 'consume', data: { transportId: 5, producerId: 'p', rtpCapabilities: {} } })).toMatchObject({ type: 'error', code: 'invalid_message', field: 'data/transportId' });
    await refused(viewer, { type: 'signal', id: 's1', op: 'produce', data: { transportId: transport.id, stream: 'cam', kind: 'video', rtpParameters: {} } }, 'forbidden', WS_CLOSE.forbidden, 'op');

    // Acting for another peer is refused.
    const other = await connectWs();
    await other.join(room, roomToken(room, 'publisher', { peer: 'carol' }));
    await refused(other, { type: 'signal', id: 's2', op: 'createWebRtcTransport', data: { direction: 'send', peer: 'alice' } }, 'forbidden', WS_CLOSE.forbidden, 'data/peer');

    // An admin may join any room and use room control ops.
    const admin = await connectWs();
    expect(await admin.join(room, TEST_ADMIN_KEY)).toMatchObject({ role: 'admin', sfu: SFU });
    await admin.signal('setSampleRate', { fps: 2 });

    await publisher.close();
    await metricsUntil((t) => metricValue(t, 'lookout_sfu_webrtc_transports') === 0, 10_000, sfu);
  }, 60_000);

  it('heartbeat drops a peer that stops answering pings; a socket that never joins is closed with 4401', async () => {
    const hb = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-hb', WS_HEARTBEAT_MS: '500', WS_JOIN_TIMEOUT_MS: '1000' });
    const hbUrl = `ws://127.0.0.1:${hb.httpPort}${WS_PATH}`;
    const dead = await connectWs({ token: TEST_ADMIN_KEY, autoPong: false }, hbUrl);
    const live = await connectWs({ token: TEST_ADMIN_KEY }, hbUrl);
    const silent = await connectWs(undefined, hbUrl);
    expect(await silent.closed).toMatchObject({ code: WS_CLOSE.unauthorized, reason: expect.stringContaining('join') });
    expect((await dead.closed).code).toBe(1006);
    // The live one has answered every ping meanwhile.
    expect(await live.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
    const text = await metrics(hb);
    expect(metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'heartbeat' })).toBe(1);
    expect(metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'join_timeout' })).toBe(1);
    await live.close();
    expect(await hb.stop()).toBe(0);
  }, 60_000);

  it('exits 0 on SIGTERM with sockets open; they are closed with 1001', async () => {
    const c = await connectWs();
    await c.join('bye', roomToken('bye', 'viewer'));
    await c.subscribe('bye');
    const [code, closed] = await Promise.all([gateway.stop(), c.closed]);
    expect(code).toBe(0);
    expect(closed.code).toBe(WS_CLOSE.goingAway);
  });
});
