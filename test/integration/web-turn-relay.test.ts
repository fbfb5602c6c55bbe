import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { IceServer } from '@lookout/contracts';
import {
  apiCall,
  artifact,
  ensureWebBuilt,
  fakeCameraFile,
  gatherRelayCandidates,
  isAnalysis,
  launchChromium,
  newContext,
  selectedPaths,
  sfuOk,
  startCoturn,
  startNatsServer,
  startService,
  stopAllProcesses,
  TestWsClient,
  TEST_GATEWAY_ENV,
  timeUntil,
  trackPeerConnections,
  watchErrors,
  type Coturn,
  type NatsServer,
  type RunningService,
  type SelectedPath,
} from '@lookout/testkit';

/**
 * TURN for strict networks: the gateway hands out coturn REST credentials (TURN_URLS,
 * TURN_SECRET) with each room token and join ack, and the web app's Publish page and
 * dashboard, forced to relay (`relay=1` → `iceTransportPolicy: 'relay'`), send and
 * receive their media through a real coturn (Debian's `turnserver`) on 127.0.0.1. Proof
 * it went through TURN: each peer connection's selected local candidate is a `relay`
 * candidate on coturn's relay address and port range, coturn logged the allocations, and
 * the stream is analysed (analysis for it arrives on a viewer's WebSocket).
 */
const SECRET = 'turn-test-secret-0123456789';
const ROOM = 'turn-room';

describe('TURN relay: the web app publishes and watches through coturn (real Chromium, coturn, SFU, detector, reid, gateway)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let coturn: Coturn;
  let gateway: RunningService;
  let base: string;
  let browser: Browser;
  const errors: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-turn-'));

  beforeAll(async () => {
    ensureWebBuilt();
    const y4m = fakeCameraFile('video/two-people-sequential-640x480-15fps.webm', 6, tmp);
    [nats, coturn] = await Promise.all([startNatsServer(), startCoturn(SECRET)]);
    nc = await connect({ servers: nats.url, name: 'web-turn-test' });
    [, , , gateway] = await Promise.all([
      startService('sfu', nats.url, { MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }),
      startService('detector', nats.url),
      startService('reid', nats.url),
      startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, TURN_URLS: coturn.urls.join(','), TURN_SECRET: SECRET, TURN_TTL_S: '600' }),
    ]);
    await sfuOk(nc, 'sfu-test', 'createRoom', { room: ROOM });
    base = `http://127.0.0.1:${gateway.httpPort}`;
    browser = await launchChromium(y4m);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await coturn?.stop();
    await stopAllProcesses();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const tokenReply = async (role: 'publisher' | 'viewer', ttlSeconds?: number) =>
    (await apiCall<{ token: string; peer: string; expiresMs: number; iceServers?: IceServer[] }>(base, 'POST', '/tokens', { json: { room: ROOM, role, ...(ttlSeconds ? { ttlSeconds } : {}) } })).body;

  const viaRelay = (p: SelectedPath) =>
    p.state === 'connected' && p.policy === 'relay' && p.local?.candidateType === 'relay' && p.local.address === '127.0.0.1' && p.local.port >= coturn.relayPorts.min && p.local.port <= coturn.relayPorts.max;

  it('issues TURN credentials with the token and the join ack, expiring with it (coturn REST scheme); coturn takes them and refuses forged or expired ones', async () => {
    const short = await tokenReply('publisher', 60);
    expect(short.iceServers).toHaveLength(1);
    const [ice] = short.iceServers!;
    expect(ice!.urls).toEqual(coturn.urls);
    expect(ice!.username).toBe(`${Math.floor(short.expiresMs / 1000)}:${short.peer}`);
    const long = await tokenReply('viewer', 7200);
    // TURN_TTL_S (600) caps it below the token's 2 hours.
    const exp = Number(long.iceServers![0]!.username.split(':')[0]);
    expect(exp * 1000).toBeLessThan(long.expiresMs);
    expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(600_000);
    // The join ack carries fresh ones for the socket's peer.
    const ws = await TestWsClient.connect(`ws://127.0.0.1:${gateway.httpPort}/ws`);
    const ack = await ws.join(ROOM, short.token);
    expect(ack.iceServers?.[0]?.username).toMatch(new RegExp(`^\\d+:${short.peer}$`));
    await ws.close();
    // Credentials are never logged.
    expect(gateway.output.join('\n')).not.toContain(ice!.credential);

    // coturn takes them, and refuses a forged credential and one past its expiry.
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect((await gatherRelayCandidates(page, short.iceServers!)).length).toBeGreaterThan(0);
    expect(await gatherRelayCandidates(page, [{ ...ice!, credential: createHmac('sha1', 'not-the-secret').update(ice!.username).digest('base64') }], 5_000)).toEqual([]);
    const expired = `${Math.floor(Date.now() / 1000) - 60}:${short.peer}`;
    expect(await gatherRelayCandidates(page, [{ urls: ice!.urls, username: expired, credential: createHmac('sha1', SECRET).update(expired).digest('base64') }], 5_000)).toEqual([]);
    await context.close();
  }, 60_000);

  it('publishes with iceTransportPolicy relay through coturn; the stream is analysed; the dashboard watches through coturn too', async () => {
    const viewer = await TestWsClient.connect(`ws://127.0.0.1:${gateway.httpPort}/ws`);
    await viewer.join(ROOM, (await tokenReply('viewer')).token);
    await viewer.subscribe(ROOM, ['analysis']);

    const context = await newContext(browser);
    await trackPeerConnections(context);
    const publish = await context.newPage();
    watchErrors(publish, errors);
    await publish.goto(`${base}/#/publish?room=${ROOM}&stream=relayed&relay=1&token=${(await tokenReply('publisher')).token}`);
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 10_000 });
    const started = Date.now();
    await publish.getByRole('button', { name: 'Start publishing' }).click();
    const explain = async (err: Error) => {
      throw new Error(`${err.message}\nthe page says: ${await publish.locator('section[aria-labelledby="publish-status-title"]').textContent()}\ncoturn:\n${coturn.output.slice(-20).join('\n')}`);
    };
    await publish.locator('[data-testid="media-path"][data-path="webrtc"]').waitFor({ timeout: 15_000 }).catch(explain);
    const connectedMs = Date.now() - started;

    // The SFU taps what came through the relay: analysis of this stream on the viewer's socket.
    const analysis = await viewer.next((m): m is Extract<typeof m, { type: 'analysis' }> => isAnalysis(m) && m.data.stream === 'relayed', 20_000);
    const analysedMs = Date.now() - started;
    expect(analysis.data.room).toBe(ROOM);

    const [sent, ...others] = await selectedPaths(publish);
    expect(others).toEqual([]);
    expect(sent).toMatchObject({ policy: 'relay', state: 'connected', local: { candidateType: 'relay', address: '127.0.0.1' } });
    expect(viaRelay(sent!)).toBe(true);
    const allocationsAfterPublish = coturn.allocations();
    expect(allocationsAfterPublish).toBeGreaterThanOrEqual(1);

    // The dashboard (admin key) receives the SFU's video through the relay as well.
    const admin = await newContext(browser, { admin: true });
    await trackPeerConnections(admin);
    const dashboard = await admin.newPage();
    watchErrors(dashboard, errors);
    await dashboard.goto(`${base}/#/dashboard?room=${ROOM}&relay=1`);
    const tile = dashboard.locator('article[data-stream="relayed"]');
    await tile.waitFor({ timeout: 10_000 });
    await timeUntil(dashboard, 'the tile\'s video through TURN', () => tile.locator('video').evaluate((v: HTMLVideoElement) => v.videoWidth > 0), 15_000);
    const received = (await selectedPaths(dashboard)).filter((p) => p.state === 'connected');
    expect(received).toHaveLength(1);
    expect(viaRelay(received[0]!)).toBe(true);
    expect(coturn.allocations()).toBeGreaterThan(allocationsAfterPublish);
    await publish.screenshot({ path: artifact('web-publish-turn.png') });

    console.log(
      `turn: WebRTC connected through coturn ${connectedMs} ms after Start publishing, first analysis ${analysedMs} ms; ` +
        `publisher ${JSON.stringify(sent!.local)} → SFU ${JSON.stringify(sent!.remote)}; dashboard ${JSON.stringify(received[0]!.local)}; coturn allocations ${coturn.allocations()}`,
    );
    expect(errors).toEqual([]);
    expect(viewer.protocolErrors).toEqual([]);
    await viewer.close();
    await context.close();
    await admin.close();
  }, 120_000);
});
