import type dgram from 'node:dgram';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, sfuEvent, subjects, type SfuEvent, type StreamAnalysis } from '@lookout/contracts';
import { FaultyFfmpeg, FIXTURES, holdUdpPorts, metricValue, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const INSTANCE = 'sfu-faults';
type AnalysisEvent = Extract<SfuEvent, { type: 'analysis_state' }>;

describe('SFU frame tap under faults: every failure is retried, and the stream says what its analysis is doing', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sfu: RunningService;
  const ffmpeg = new FaultyFfmpeg();
  const events: AnalysisEvent[] = [];
  const waiters = new Set<{ match: (e: AnalysisEvent) => boolean; resolve: (e: AnalysisEvent) => void }>();
  let held: { base: number; sockets: dgram.Socket[] };

  /** The first analysis_state event of `stream` after `from` (an index into `events`) that matches. */
  const analysisEvent = (stream: string, match: (a: StreamAnalysis) => boolean, from = 0, timeoutMs = 30_000) => {
    const seen = events.slice(from).find((e) => e.stream === stream && match(e.analysis));
    if (seen) return Promise.resolve(seen);
    return new Promise<AnalysisEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching analysis_state for ${stream}; saw ${JSON.stringify(events.filter((e) => e.stream === stream).map((e) => e.analysis))}`)), timeoutMs);
      waiters.add({ match: (e) => e.stream === stream && match(e.analysis), resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  };
  const firstFrame = (room: string, stream: string) => new Promise<number>((resolve) => nc.subscribe(subjects.frames(room, stream), { max: 1, callback: () => resolve(Date.now()) }));
  const streamInfo = async (room: string, stream: string) => (await sfuOk(nc, INSTANCE, 'listStreams', { room })).find((s) => s.stream === stream)!;

  beforeAll(async () => {
    // Three port pairs; the test holds the first and the last, so only the middle one is free.
    held = await holdUdpPorts(6, 33_000, 6000);
    held.sockets.splice(2, 2).forEach((s) => s.close());
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-faults-test' });
    nc.subscribe(subjects.sfuEventsAll(), {
      callback: (_e, m) => {
        const e = decodeJson(sfuEvent, m.data);
        if (e.type !== 'analysis_state') return;
        events.push(e);
        for (const w of waiters) {
          if (!w.match(e)) continue;
          waiters.delete(w);
          w.resolve(e);
        }
      },
    });
    sfu = await startService('sfu', nats.url, {
      INSTANCE_ID: INSTANCE,
      MEDIASOUP_WORKERS: '1',
      INGEST_FILE_ROOT: FIXTURES,
      // The encoding ingest (an RTSP camera's path) is the one under fault here; sfu.test.ts covers VP8 passed through.
      INGEST_PASSTHROUGH: 'false',
      FFMPEG_PATH: ffmpeg.path,
      TAP_PORT_MIN: String(held.base),
      TAP_PORT_MAX: String(held.base + 5),
      TAP_FIRST_FRAME_TIMEOUT_MS: '4000',
    });
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'faults', sampleFps: 5 });
  }, 120_000);

  afterAll(async () => {
    held?.sockets.forEach((s) => s.close());
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
    ffmpeg.remove();
  });

  it('skips ports another program holds; with none left the analysis is unavailable, saying why, and recovers once a port is free', async () => {
    const started = await sfuOk(nc, INSTANCE, 'ingest', { room: 'faults', stream: 'cam-ports', url: VIDEO, loop: true });
    expect(started.producerId).toEqual(expect.any(String));
    // The ingest took the only free pair (skipping a held one); the tap finds none.
    const unavailable = await analysisEvent('cam-ports', (a) => a.state === 'unavailable');
    expect(unavailable.analysis).toMatchObject({ code: 'no_port', failures: 3, reason: expect.stringContaining(`${held.base}-${held.base + 5}`) });
    const info = await streamInfo('faults', 'cam-ports');
    expect(info).toMatchObject({ state: 'live', analysis: { state: 'unavailable', code: 'no_port' } });
    const metrics = (await sfu.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_sfu_stream_analysis', { state: 'unavailable' })).toBe(1);
    expect(metricValue(metrics, 'lookout_sfu_tap_failures_total', { reason: 'no_port' })).toBeGreaterThanOrEqual(3);
    expect(metricValue(metrics, 'lookout_sfu_ingests_started_total', { mode: 'encode' })).toBe(1);

    const from = events.length;
    const frame = firstFrame('faults', 'cam-ports');
    const freed = Date.now();
    held.sockets.shift()!.close();
    held.sockets.shift()!.close();
    const live = await analysisEvent('cam-ports', (a) => a.state === 'live', from);
    const latency = (await frame) - freed;
    console.log(`tap: analysed again ${latency} ms after a port pair was freed`);
    expect(live.analysis).toEqual({ state: 'live', sinceMs: expect.any(Number), failures: 0, lastFrameMs: expect.any(Number) });
    expect(latency).toBeLessThan(15_000);
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_stream_analysis', { state: 'live' })).toBe(1);
    await sfuOk(nc, INSTANCE, 'stopIngest', { room: 'faults', stream: 'cam-ports' });
  });

  it('a tap ffmpeg killed before it ever binds is started again, and the stream is analysed within seconds', async () => {
    const hung = ffmpeg.hangNextTap();
    const from = events.length;
    await sfuOk(nc, INSTANCE, 'ingest', { room: 'faults', stream: 'cam-killed', url: VIDEO, loop: true });
    const pid = await hung;
    expect((await streamInfo('faults', 'cam-killed')).analysis.state).toBe('starting');
    const frame = firstFrame('faults', 'cam-killed');
    const killed = Date.now();
    process.kill(pid, 'SIGKILL');
    const retrying = await analysisEvent('cam-killed', (a) => a.state === 'retrying', from);
    expect(retrying.analysis).toMatchObject({ code: 'exited', failures: 1, reason: expect.stringContaining('SIGKILL') });
    await analysisEvent('cam-killed', (a) => a.state === 'live', from);
    const latency = (await frame) - killed;
    console.log(`tap: analysed ${latency} ms after its first ffmpeg was killed before binding`);
    expect(latency).toBeLessThan(10_000);
    await sfuOk(nc, INSTANCE, 'stopIngest', { room: 'faults', stream: 'cam-killed' });
  });

  it('a tap that never decodes a frame hits its deadline and is started again', async () => {
    const hung = ffmpeg.hangNextTap();
    const from = events.length;
    await sfuOk(nc, INSTANCE, 'ingest', { room: 'faults', stream: 'cam-hung', url: VIDEO, loop: true });
    await hung;
    const retrying = await analysisEvent('cam-hung', (a) => a.state === 'retrying', from);
    expect(retrying.analysis).toMatchObject({ code: 'no_frames', reason: expect.stringContaining('no frame decoded within 4 s') });
    await analysisEvent('cam-hung', (a) => a.state === 'live', from);
    await sfuOk(nc, INSTANCE, 'stopIngest', { room: 'faults', stream: 'cam-hung' });
  });

  it('an ffmpeg that keeps failing makes the analysis unavailable with its own words, while the media stays live', async () => {
    ffmpeg.failTaps('simulated decoder failure');
    const from = events.length;
    await sfuOk(nc, INSTANCE, 'ingest', { room: 'faults', stream: 'cam-broken', url: VIDEO, loop: true });
    const unavailable = await analysisEvent('cam-broken', (a) => a.state === 'unavailable', from);
    expect(unavailable.analysis).toMatchObject({ code: 'exited', reason: 'ffmpeg exited with code 1: test ffmpeg: simulated decoder failure' });
    expect(await streamInfo('faults', 'cam-broken')).toMatchObject({ state: 'live', analysis: { state: 'unavailable' } });
    const healed = events.length;
    ffmpeg.failTaps(undefined);
    await analysisEvent('cam-broken', (a) => a.state === 'live', healed);
    expect((await streamInfo('faults', 'cam-broken')).analysis).toMatchObject({ state: 'live', failures: 0 });
    expect(sfu.child.exitCode).toBeNull();
  });
});
