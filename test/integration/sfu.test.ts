import sharp from 'sharp';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { processCommandLine } from '@lookout/service-kit';
import { decodeFrameHeaders, decodeJson, facesMessage, kvBuckets, roomPlacement, rpc, sfuEvent, sfuInstanceInfo, subjects, type SfuEvent } from '@lookout/contracts';
import {
  childProcesses,
  FIXTURES,
  metricValue,
  sfuCall,
  sfuOk,
  startNatsServer,
  startService,
  stopAllProcesses,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const INSTANCE = 'sfu-test';

describe('SFU: file ingest, frame tap, signaling errors, clean close (real mediasoup, ffmpeg, NATS)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sfu: RunningService;
  let detector: RunningService;
  const events: SfuEvent[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-test' });
    nc.subscribe(subjects.sfuEventsAll(), {
      callback: (_e, m) => {
        events.push(decodeJson(sfuEvent, m.data));
      },
    });
    [sfu, detector] = await Promise.all([
      startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES }),
      startService('detector', nats.url, { MAX_FRAME_AGE_MS: '5000', ANALYZERS: 'none' }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  it('ingests a file into a room and publishes JPEG frames at the configured rate, with faces in them', async () => {
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'files', sampleFps: 5 });
    const arrivals: Array<{ ms: number; width: number; height: number; jpeg: Uint8Array }> = [];
    let firstFrame: (() => void) | undefined;
    const gotFirst = new Promise<void>((r) => (firstFrame = r));
    nc.subscribe(subjects.frames('files', 'cam-file'), {
      callback: (_e, m) => {
        const meta = decodeFrameHeaders((n) => m.headers?.get(n) || undefined);
        arrivals.push({ ms: Date.now(), width: meta.width, height: meta.height, jpeg: m.data });
        firstFrame?.();
      },
    });
    let faceFrames = 0;
    let sawFace: (() => void) | undefined;
    const gotFace = new Promise<void>((r) => (sawFace = r));
    nc.subscribe(subjects.faces('files', 'cam-file'), {
      callback: (_e, m) => {
        if (decodeJson(facesMessage, m.data).faces.length > 0 && ++faceFrames === 1) sawFace?.();
      },
    });
    const started = Date.now();
    const { producerId } = await sfuOk(nc, INSTANCE, 'ingest', { room: 'files', stream: 'cam-file', url: VIDEO, loop: true });
    expect(producerId).toEqual(expect.any(String));
    await gotFirst;
    console.log(`file ingest: first frame ${Date.now() - started} ms after the ingest request`);

    // The rate, from the gaps between frames: timing belongs to the benchmarks (bench/media.mjs),
    // so this only tells the configured 5 fps apart from the source's 15 fps and from a stall.
    // The median gap ignores frames a busy machine delivers in bunches.
    const gap = await medianGapMs(() => arrivals.slice(1).map((a) => a.ms), 11);
    expect(gap).toBeGreaterThan(100); // 15 fps would be 67 ms
    expect(gap).toBeLessThan(400); // 5 fps is 200 ms

    for (const a of arrivals.slice(0, 5)) {
      const meta = await sharp(a.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 480]);
      expect([a.width, a.height]).toEqual([640, 480]);
    }
    await gotFace;
    const streams = await sfuOk(nc, INSTANCE, 'listStreams', { room: 'files' });
    expect(streams).toEqual([expect.objectContaining({ stream: 'cam-file', state: 'live', source: 'ingest', width: 640, height: 480 })]);
    expect(events).toContainEqual({ type: 'stream_state', room: 'files', stream: 'cam-file', state: 'live' });
    // The fixture is VP8 with a keyframe every 2 s: sent as it is, no encoder running.
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_ingests_started_total', { mode: 'copy' })).toBe(1);
    const ingests = await ffmpegWith(sfu.child.pid!, 'rtp://');
    expect(ingests).toHaveLength(1);
    expect((await processCommandLine(ingests[0]!))?.join(' ')).toContain('-c:v copy');
  });

  it('answers bad signaling with an error naming the problem and keeps serving', async () => {
    const error = async (op: string, body: unknown) => {
      const r = await sfuCall(nc, INSTANCE, op, body);
      if (r.ok) throw new Error(`${op} unexpectedly succeeded`);
      return r.error;
    };
    expect(await error('getRouterRtpCapabilities', { room: 'nowhere' })).toMatchObject({ code: 'unknown_room', field: 'room' });
    expect(await error('createWebRtcTransport', { room: 'files', peer: 'p', direction: 'sideways' })).toMatchObject({ code: 'invalid_request', field: 'direction' });
    expect(await error('connectTransport', { room: 'files', transportId: 'nope', dtlsParameters: {} })).toMatchObject({ code: 'unknown_transport', field: 'transportId' });
    const t = await sfuOk(nc, INSTANCE, 'createWebRtcTransport', { room: 'files', peer: 'p', direction: 'send' });
    const malformed = await error('produce', { room: 'files', peer: 'p', transportId: t.id, stream: 's', kind: 'video', rtpParameters: { codecs: 'vp8' } });
    expect(malformed.code).toBe('invalid_parameters');
    expect(malformed.message).toMatch(/codecs/);
    // One subscription per operation the contract declares: every declared one answers
    // (here, that a body without its fields is invalid), an undeclared one reaches nobody.
    for (const op of Object.keys(rpc.sfu)) expect(await error(op, {})).toMatchObject({ code: 'invalid_request' });
    const undeclared = await sfuCall(nc, INSTANCE, 'frobnicate', { room: 'files' }).then(
      (reply) => reply,
      (err: Error & { isNoResponders?: () => boolean }) => err,
    );
    expect(undeclared).toBeInstanceOf(Error);
    expect((undeclared as Error & { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
    expect(await error('listStreams', '{not json')).toMatchObject({ code: 'invalid_request' });
    expect(await error('ingest', { room: 'files', stream: 'x', url: '../../../etc/passwd' })).toMatchObject({ code: 'invalid_url', field: 'url' });
    expect(await error('ingest', { room: 'files', stream: 'y', url: 'faces/README.md' })).toMatchObject({ code: 'ingest_failed', field: 'url' });
    expect(await error('ingest', { room: 'files', stream: 'z', url: 'http://example.com/x.mp4' })).toMatchObject({ code: 'invalid_url' });
    const failed = (await sfuOk(nc, INSTANCE, 'listStreams', { room: 'files' })).find((s) => s.stream === 'y');
    expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining('faces/README.md') });
    // Still serving: another room works.
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'other' });
    expect(await sfuOk(nc, INSTANCE, 'getRouterRtpCapabilities', { room: 'other' })).toHaveProperty('codecs');
    expect(sfu.child.exitCode).toBeNull();
  });

  it('registers itself and its rooms in KV, and a second instance is refused a room the first one owns', async () => {
    const kvm = new Kvm(nc);
    const instances = await kvm.open(kvBuckets.sfuInstances);
    const placements = await kvm.open(kvBuckets.roomPlacement);
    const me = sfuInstanceInfo.parse((await instances.get(INSTANCE))!.json());
    expect(me).toMatchObject({ instance: INSTANCE, workers: 1 });
    expect(roomPlacement.parse((await placements.get('files'))!.json()).instance).toBe(INSTANCE);

    const second = await startService('sfu', nats.url, { INSTANCE_ID: 'sfu-second', MEDIASOUP_WORKERS: '1', RTC_MIN_PORT: '41000', RTC_MAX_PORT: '41099', TAP_PORT_MIN: '30000', TAP_PORT_MAX: '30999' });
    const refused = await sfuCall(nc, 'sfu-second', 'createRoom', { room: 'files' });
    expect(refused).toEqual({ ok: false, error: { code: 'room_elsewhere', message: expect.stringContaining(INSTANCE), field: 'room' } });
    await sfuOk(nc, 'sfu-second', 'createRoom', { room: 'elsewhere' });
    expect(roomPlacement.parse((await placements.get('elsewhere'))!.json()).instance).toBe('sfu-second');
    expect(await second.stop()).toBe(0);
    // A clean shutdown gives its registration and its rooms' placements back but keeps their
    // records, so the first instance adopts its room (docs/sfu.md, Restarts and lost workers).
    expect((await instances.get('sfu-second'))?.operation ?? 'DEL').not.toBe('PUT');
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!events.some((e) => e.type === 'worker_died' && e.room === 'elsewhere' && e.instance === INSTANCE)) return;
        clearInterval(check);
        resolve();
      }, 20);
    });
    expect(roomPlacement.parse((await placements.get('elsewhere'))!.json()).instance).toBe(INSTANCE);
  });

  it('restarts a tap whose ffmpeg dies, and frames keep coming', async () => {
    const taps = await ffmpegWith(sfu.child.pid!, '-f sdp');
    expect(taps).toHaveLength(1);
    process.kill(taps[0]!, 'SIGKILL');
    // Event-driven: the SFU starts a new tap ffmpeg, and a frame comes after that.
    let restarted: number[] = [];
    for (const until = Date.now() + 30_000; ; ) {
      restarted = await ffmpegWith(sfu.child.pid!, '-f sdp');
      if (restarted.length === 1 && restarted[0] !== taps[0]) break;
      if (Date.now() > until) throw new Error('no new tap ffmpeg within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise<void>((resolve) => {
      const sub = nc.subscribe(subjects.frames('files', 'cam-file'), {
        callback: () => {
          sub.unsubscribe();
          resolve();
        },
      });
    });
    expect(restarted).toHaveLength(1);
    expect(restarted[0]).not.toBe(taps[0]);
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_ffmpeg_restarts_total', { kind: 'tap' })).toBe(1);
  });

  it('changes the sample rate at run time', async () => {
    await sfuOk(nc, INSTANCE, 'setSampleRate', { room: 'files', fps: 2 });
    const times: number[] = [];
    const sub = nc.subscribe(subjects.frames('files', 'cam-file'), {
      callback: () => {
        times.push(Date.now());
      },
    });
    // Skip the frames the old rate had in flight, then read the gap between frames (see above).
    const gap = await medianGapMs(() => times.slice(2), 9);
    sub.unsubscribe();
    expect(gap).toBeGreaterThan(300); // 5 fps would be 200 ms
    expect(gap).toBeLessThan(1000); // 2 fps is 500 ms
  });

  it('closing rooms leaves no ffmpeg process and no transport', async () => {
    expect((await childProcesses(sfu.child.pid!, 'ffmpeg')).length).toBeGreaterThan(0);
    await sfuOk(nc, INSTANCE, 'closeRoom', { room: 'files' });
    await sfuOk(nc, INSTANCE, 'closeRoom', { room: 'other' });
    await sfuOk(nc, INSTANCE, 'closeRoom', { room: 'elsewhere' });
    // An ffmpeg told to stop may take a moment to be reaped (seen once on a loaded CI
    // machine); one still there after 5 s is a leak, named by its command line.
    let left = await childProcesses(sfu.child.pid!, 'ffmpeg');
    for (const end = Date.now() + 5000; left.length > 0 && Date.now() < end; left = await childProcesses(sfu.child.pid!, 'ffmpeg')) await new Promise((r) => setTimeout(r, 100));
    expect(await Promise.all(left.map(async (pid) => `${pid} ${(await processCommandLine(pid))?.join(' ') ?? ''}`))).toEqual([]);
    const metrics = (await sfu.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_sfu_rooms')).toBe(0);
    expect(metricValue(metrics, 'lookout_sfu_webrtc_transports')).toBe(0);
    expect(metricValue(metrics, 'lookout_sfu_frames_published_total', { room: 'files' })).toBeGreaterThan(20);
    // Every ffmpeg is gone, and the CPU they used is still counted.
    expect(metricValue(metrics, 'lookout_sfu_ffmpeg_cpu_seconds')).toBeGreaterThan(0);
    expect(events).toContainEqual({ type: 'room_closed', room: 'files' });
    expect((await sfuCall(nc, INSTANCE, 'listStreams', { room: 'files' })).ok).toBe(false);
    expect(metricValue((await detector.get('/metrics')).body, 'lookout_detector_frames_processed_total', { room: 'files' })).toBeGreaterThan(0);
  });

  it('replaces a mediasoup worker that dies, builds its rooms again on the new one and tells their clients', async () => {
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'fragile' });
    const [worker] = await childProcesses(sfu.child.pid!, 'mediasoup-worke');
    expect(worker).toBeDefined();
    const told = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (events.some((e) => e.type === 'worker_died' && e.room === 'fragile')) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    process.kill(worker!, 'SIGKILL');
    await told;
    await sfu.waitForLine((l) => l.includes('mediasoup worker started') && !l.includes(`"pid":${worker}`));
    const [replacement] = await childProcesses(sfu.child.pid!, 'mediasoup-worke');
    expect(replacement).not.toBe(worker);
    // The room was built again (sfu-restore.test.ts restores its ingests too).
    expect(await sfuOk(nc, INSTANCE, 'listStreams', { room: 'fragile' })).toEqual([]);
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'fragile' });
    expect((await sfu.get('/readyz')).status).toBe(200);
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_worker_deaths_total')).toBe(1);
  });
});

/** ffmpeg children of `pid` whose command line contains `needle`. */
/** Waits (event-driven, polled) until `times()` holds `n` arrival times; their median gap in ms. */
async function medianGapMs(times: () => number[], n: number): Promise<number> {
  const until = Date.now() + 60_000;
  while (times().length < n) {
    if (Date.now() > until) throw new Error(`fewer than ${n} frames in 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const t = times().slice(0, n);
  const gaps = t.slice(1).map((v, i) => v - t[i]!).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

async function ffmpegWith(pid: number, needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const child of await childProcesses(pid, 'ffmpeg')) {
    if ((await processCommandLine(child))?.join(' ').includes(needle)) out.push(child);
  }
  return out;
}
