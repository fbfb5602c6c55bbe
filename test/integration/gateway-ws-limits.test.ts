import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ServerMessage } from '@lookout/contracts';
import {
  FIXTURES,
  fakeCameraFile,
  isAck,
  isAnalysis,
  isError,
  launchChromium,
  metricValue,
  roomToken,
  servePublisherPage,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_ADMIN_KEY,
  TEST_GATEWAY_ENV,
  TestWsClient,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

/**
 * Issue 17, findings 1 and 4: what one valid token may cost everyone else.
 * 1. A viewer looping `createWebRtcTransport` is refused past its socket's, its peer's and
 *    its room's cap, and a publisher of another room still gets its transport and connects
 *    (real Chromium, through the gateway's signaling).
 * 4. A publisher uploads frames only to its own streams: never an ingest's, never another
 *    peer's; results carry the publishing peer.
 *
 * The SFU gets 16 WebRTC ports and a room half of them: without the caps the flooding
 * viewer alone takes them all and the other room's transport fails (`internal`).
 */
const RTC_MIN_PORT = 42100;
const RTC_PORTS = 16;
const ROOM_SHARE = 0.5;
const PER_SOCKET = 2;
const PER_PEER = 3;
const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const face = fs.readFileSync(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama1.jpg'));

type Reply = ServerMessage;
type Analysis = Extract<ServerMessage, { type: 'analysis' }>;
const errorOf = (m: Reply) => (m.type === 'error' ? m : undefined);
const analysisOf = (stream: string) => (m: ServerMessage): m is Analysis => isAnalysis(m) && m.data.stream === stream;

describe('gateway WebSocket: media caps and stream ownership (real nats-server, gateway, sfu, detector, reid, Chromium)', () => {
  let nats: NatsServer;
  let gateway: RunningService;
  let sfu: RunningService;
  let url: string;
  let browser: Browser;
  let publisherPage: { url: string; close(): Promise<void> };
  const open: TestWsClient[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-limits-'));

  const connectWs = async () => {
    const c = await TestWsClient.connect(url);
    open.push(c);
    return c;
  };
  /** A socket joined to `room` with a token for `peer`. */
  const member = async (room: string, role: 'viewer' | 'publisher', peer: string) => {
    const c = await connectWs();
    await c.join(room, roomToken(room, role, { peer }));
    return c;
  };
  const sfuTransports = async () => metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_webrtc_transports');
  /** `n` transport creations, `burst` at a time (as a looping client would send them); the replies. */
  async function createTransports(c: TestWsClient, n: number, burst = 8): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (let i = 0; i < n; i += burst) {
      const batch = Array.from({ length: Math.min(burst, n - i) }, () => c.request({ type: 'signal', op: 'createWebRtcTransport', data: { direction: 'recv' } }));
      replies.push(...(await Promise.all(batch)));
    }
    return replies;
  }
  const created = (replies: Reply[]) => replies.filter((r) => r.type === 'signal').length;
  const refusals = (replies: Reply[]) => replies.flatMap((r) => errorOf(r) ?? []);

  beforeAll(async () => {
    const y4m = fakeCameraFile(VIDEO, 4, tmp);
    publisherPage = await servePublisherPage();
    nats = await startNatsServer();
    [gateway, sfu] = await Promise.all([
      startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-limits', WS_MAX_TRANSPORTS: String(PER_SOCKET), WS_HEARTBEAT_MS: '60000' }),
      startService('sfu', nats.url, {
        INSTANCE_ID: 'sfu-limits',
        MEDIASOUP_WORKERS: '1',
        RTC_LISTEN_IP: '127.0.0.1',
        RTC_MIN_PORT: String(RTC_MIN_PORT),
        RTC_MAX_PORT: String(RTC_MIN_PORT + RTC_PORTS - 1),
        ROOM_PORT_SHARE: String(ROOM_SHARE),
        MAX_TRANSPORTS_PER_PEER: String(PER_PEER),
        INGEST_FILE_ROOT: FIXTURES,
      }),
      startService('detector', nats.url),
      startService('reid', nats.url),
    ]);
    url = `ws://127.0.0.1:${gateway.httpPort}/ws`;
    browser = await launchChromium(y4m);
  }, 180_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await browser?.close();
    await stopAllProcesses();
    await nats?.stop();
    await publisherPage?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A page that publishes the fake camera with `client` relaying its signaling through the gateway. */
  async function publisherOn(client: TestWsClient): Promise<Page> {
    const page = await browser.newPage();
    await page.exposeFunction('signal', (op: string, body: Record<string, unknown>) => client.signal(op as never, body));
    await page.goto(publisherPage.url);
    return page;
  }

  it('a viewer looping transport creation is refused past its socket, peer and room caps; another room\'s publisher still connects; closing sockets frees every transport', async () => {
    // One socket: WS_MAX_TRANSPORTS, bursts of 8 in flight included.
    const flood = 'flood';
    const v1 = await member(flood, 'viewer', 'v1');
    const first = await createTransports(v1, 48);
    expect(created(first)).toBe(PER_SOCKET);
    expect(refusals(first)).toHaveLength(48 - PER_SOCKET);
    for (const e of refusals(first)) expect(e).toMatchObject({ code: 'too_many_transports', field: 'op', message: expect.stringContaining('WS_MAX_TRANSPORTS') });
    // The refusals leave the socket open and working.
    expect(await v1.request({ type: 'ping' })).toMatchObject({ type: 'ack', op: 'ping' });

    // More sockets of the same peer: the SFU's per-peer cap.
    const v1again = await member(flood, 'viewer', 'v1');
    const again = await createTransports(v1again, 8);
    expect(created(again)).toBe(PER_PEER - PER_SOCKET);
    expect(refusals(again)).toContainEqual(expect.objectContaining({ code: 'too_many_transports', message: expect.stringContaining('MAX_TRANSPORTS_PER_PEER') }));

    // More peers: the room's share of the ports.
    const roomCap = Math.floor(RTC_PORTS * ROOM_SHARE);
    const others = await Promise.all(['v2', 'v3', 'v4', 'v5', 'v6'].map((peer) => member(flood, 'viewer', peer)));
    const theirs = (await Promise.all(others.map((c) => createTransports(c, 8)))).flat();
    expect(PER_PEER + created(theirs)).toBe(roomCap);
    expect(refusals(theirs)).toContainEqual(expect.objectContaining({ code: 'too_many_transports', message: expect.stringContaining('ROOM_PORT_SHARE') }));
    expect(await sfuTransports()).toBe(roomCap);

    // Another room: its viewer and its publisher get transports, and the publisher's
    // camera connects and is analysed, its results naming it.
    const calm = 'calm';
    const watcher = await member(calm, 'viewer', 'proctor');
    await watcher.subscribe(calm, ['analysis']);
    expect(created(await createTransports(watcher, 1))).toBe(1);
    const alice = await member(calm, 'publisher', 'alice');
    const page = await publisherOn(alice);
    const published = await page.evaluate(() => window.publish({ room: 'calm', stream: 'laptop', peer: 'alice', codec: 'VP8' }));
    expect(published.connectionState).toBe('connected');
    const analysed = await watcher.next(analysisOf('laptop'), 60_000);
    expect(analysed.data.peer).toBe('alice');

    // Finding 4 on a WebRTC stream: only its producing peer may upload frames to it.
    const mallory = await member(calm, 'publisher', 'mallory');
    mallory.sendFrame('laptop', face, { seq: 1, id: 'inject' });
    expect(await mallory.next(isError)).toMatchObject({ id: 'inject', code: 'stream_not_owned', field: 'stream', message: expect.stringContaining('peer alice') });
    alice.sendFrame('laptop', face, { seq: 1_000_000, id: 'own' });
    expect(await alice.next(isAck)).toMatchObject({ op: 'frame', id: 'own' });

    await page.close();
    await Promise.all(open.splice(0).map((c) => c.close()));
    const deadline = Date.now() + 20_000;
    while ((await sfuTransports()) !== 0) {
      if (Date.now() > deadline) throw new Error(`transports left after every socket closed: ${await sfuTransports()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);

  it('a publisher\'s frames to an ingest stream or another peer\'s upload stream are refused (field stream); its own stream is analysed under its peer', async () => {
    const room = 'inject';
    const admin = await connectWs();
    await admin.join(room, TEST_ADMIN_KEY);
    await admin.signal('ingest', { stream: 'cam', url: VIDEO, loop: true });
    const viewer = await member(room, 'viewer', 'proctor');
    await viewer.subscribe(room, ['analysis']);
    const mallory = await member(room, 'publisher', 'mallory');
    const bob = await member(room, 'publisher', 'bob');

    const notOwned = async () => metricValue((await gateway.get('/metrics')).body, 'lookout_bad_messages_total', { subject_kind: 'ws', reason: 'not_owned' });
    const notOwnedBefore = await notOwned();
    // The ingest's stream: refused, frame after frame.
    for (let seq = 0; seq < 5; seq++) {
      mallory.sendFrame('cam', face, { seq, id: `cam${seq}` });
      expect(await mallory.next(isError)).toMatchObject({ id: `cam${seq}`, code: 'stream_not_owned', field: 'stream', message: expect.stringContaining('ingest') });
    }
    // Its own stream works; the analysis names the publishing peer.
    for (let seq = 0; seq < 5; seq++) {
      mallory.sendFrame('mallory-cam', face, { seq, id: `own${seq}` });
      expect(await mallory.next(isAck)).toMatchObject({ op: 'frame', id: `own${seq}`, seq });
    }
    const own = await viewer.next(analysisOf('mallory-cam'), 60_000);
    expect(own.data).toMatchObject({ room, stream: 'mallory-cam', peer: 'mallory' });
    expect(own.data.faces.length).toBeGreaterThanOrEqual(1);
    // Another peer's upload stream: refused; bob's own is his.
    bob.sendFrame('mallory-cam', face, { seq: 9, id: 'steal' });
    expect(await bob.next(isError)).toMatchObject({ id: 'steal', code: 'stream_not_owned', field: 'stream', message: expect.stringContaining('peer mallory') });
    bob.sendFrame('bob-cam', face, { seq: 0, id: 'bob' });
    expect(await bob.next(isAck)).toMatchObject({ id: 'bob' });

    // What the ingest's stream was analysed from: the SFU's tap only, never mallory.
    await viewer.next(analysisOf('cam'), 60_000);
    const cam = viewer.take(isAnalysis).filter((m) => m.data.stream === 'cam');
    expect(cam.filter((m) => m.data.peer !== undefined)).toEqual([]);
    expect((await notOwned()) - notOwnedBefore).toBe(6);
    await admin.signal('stopIngest', { stream: 'cam' });
  }, 120_000);
});
