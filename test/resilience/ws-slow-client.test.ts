// A WebSocket client that never reads for 60 s while its room gets a steady stream of
// analysis: the gateway's memory stays bounded, the unread socket is cut off (or its queue
// shed), and the clients that read get every message at the rate it is published.
import type { NatsConnection } from '@nats-io/transport-node';
import { processRssBytes } from '@lookout/service-kit';
import { subjects, WS_PATH, type AnalysisMessage } from '@lookout/contracts';
import {
  metricValue,
  patientConnect,
  recordAnalysis,
  roomToken,
  sleep,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  TestWsClient,
  until,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

const ROOM = 'slow';
const STREAMS = ['cam-1', 'cam-2', 'cam-3'];
const RATE = 10; // per stream per second
const PADDING = 20_000; // bytes of crop per message: ~600 KB/s per socket
// 60 s in `npm run test:resilience` (RESILIENCE_FULL=1); 20 s in the default run (the gateway gives up on an unread socket after WS_STUCK_MS, 10 s).
const SECONDS = Number(process.env.RESILIENCE_SLOW_SECONDS ?? (process.env.RESILIENCE_FULL ? 60 : 20));
const READERS = 4;
const RSS_GROWTH_MAX_MIB = 64;

const analysis = (stream: string, seq: number): AnalysisMessage => ({
  room: ROOM,
  stream,
  seq,
  captureMs: Date.now(),
  width: 640,
  height: 480,
  timings: { detect: 1 },
  faces: [{ box: [10, 10, 100, 100], score: 0.9, identity: null, crop: { format: 'jpeg', width: 112, height: 112, data: 'A'.repeat(PADDING) } }],
});

describe(`a WebSocket client that never reads for ${SECONDS} s under load (real nats-server, gateway)`, () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let gateway: RunningService;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await patientConnect(nats.url, 'ws-slow-client-test');
    gateway = await startService('gateway', nats.url, TEST_GATEWAY_ENV);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await gateway?.stop();
    await stopAllProcesses();
    await nats?.stop();
  });

  it('bounded memory, the unread socket dropped, the readers unaffected', async () => {
    const url = `ws://127.0.0.1:${gateway.httpPort}${WS_PATH}`;
    const join = async () => {
      const c = await TestWsClient.connect(url);
      await c.join(ROOM, roomToken(ROOM, 'viewer'));
      await c.subscribe(ROOM, ['analysis']);
      return c;
    };
    const readers = await Promise.all(Array.from({ length: READERS }, join));
    const got = readers.map(recordAnalysis);
    const stuck = await join();
    stuck.pause();
    const metrics = async () => (await gateway.get('/metrics')).body;

    const rss: number[] = [(await processRssBytes(gateway.child.pid!))! / 2 ** 20];
    const t0 = Date.now();
    let published = 0;
    let seq = 0;
    const perSecond: number[] = [];
    for (let s = 0; s < SECONDS; s++) {
      const tick = Date.now();
      for (let i = 0; i < RATE; i++) {
        for (const stream of STREAMS) nc.publish(subjects.analysis(ROOM, stream), JSON.stringify(analysis(stream, seq)));
        published += STREAMS.length;
        seq++;
        await sleep(1000 / RATE - 2);
      }
      rss.push((await processRssBytes(gateway.child.pid!))! / 2 ** 20);
      perSecond.push(Math.min(...got.map((g) => g.length)));
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
    const elapsed = (Date.now() - t0) / 1000;
    // Let the readers take the last messages.
    const settle = Date.now() + 10_000;
    while (Date.now() < settle && got.some((g) => g.length < published)) await sleep(100);
    const text = await metrics();
    const droppedFor = ['superseded', 'stale', 'queue_full'].reduce((sum, reason) => sum + metricValue(text, 'lookout_gateway_ws_messages_dropped_total', { type: 'analysis', reason }), 0);
    const stuckCloses = metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'stuck' });
    const heartbeatCloses = metricValue(text, 'lookout_gateway_ws_closes_total', { reason: 'heartbeat' });
    const received = got.map((g) => g.length);
    // Rate each reader saw in each 10-s window of the run, as a share of the published rate.
    const windows: number[] = [];
    for (let w = 0; w + 10 <= SECONDS; w += 10) {
      const from = t0 + w * 1000;
      const to = from + 10_000;
      windows.push(Math.min(...got.map((g) => g.filter((a) => a.at >= from && a.at < to).length)) / (10 * RATE * STREAMS.length));
    }
    const rssMax = Math.max(...rss);
    console.log(
      `slow WebSocket client, ${SECONDS} s unread: ${published} analysis messages (~${Math.round((RATE * STREAMS.length * PADDING) / 1024)} KiB/s per socket) in ${elapsed.toFixed(1)} s; ` +
        `readers received ${JSON.stringify(received)}; lowest share of the published rate per 10-s window ${JSON.stringify(windows.map((x) => +x.toFixed(2)))}; ` +
        `unread socket: closes stuck ${stuckCloses}, heartbeat ${heartbeatCloses}, analysis dropped for it ${droppedFor}; ` +
        `gateway RSS ${rss[0]!.toFixed(0)} → max ${rssMax.toFixed(0)} → end ${rss.at(-1)!.toFixed(0)} MiB`,
    );

    for (const r of readers) expect(r.protocolErrors).toEqual([]);
    // The readers get every message, at the rate it was published, all along.
    expect(received.every((n) => n === published)).toBe(true);
    for (const share of windows) expect(share).toBeGreaterThan(0.8);
    // The unread socket is cut off (backpressure or missed pongs), not kept growing.
    expect(stuckCloses + heartbeatCloses).toBeGreaterThanOrEqual(1);
    // Its connection is gone once the close handshake completes or, unread, WS_STUCK_MS after the close.
    await until('the unread socket is gone', async () => metricValue(await metrics(), 'lookout_gateway_ws_clients') === READERS, 40_000, 250);
    expect(rssMax - rss[0]!).toBeLessThan(RSS_GROWTH_MAX_MIB);

    stuck.resume();
    await stuck.closed;
    await Promise.all(readers.map((r) => r.close()));
  }, (SECONDS + 90) * 1000);
});
