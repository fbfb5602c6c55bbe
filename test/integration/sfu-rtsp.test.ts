import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { processCommandLine } from '@lookout/service-kit';
import { decodeFrameHeaders, decodeJson, facesMessage, kvBuckets, sfuEvent, sfuRoomRecord, subjects, type SfuEvent } from '@lookout/contracts';
import { childProcesses, metricValue, RtspCamera, sfuCall, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const INSTANCE = 'sfu-rtsp';
const USER = 'doorcam';
const PASSWORD = 'Kx9-unguessable-pw';

/**
 * An IP camera, for real: the GStreamer RTSP server (scripts/setup.sh) serving H.264
 * constrained baseline over RTSP/TCP with basic auth. The SFU routes the camera's H.264 as
 * it is (no encoder), its frames reach NATS at the camera's size, a camera that goes away
 * is reconnected by itself, and its password shows up nowhere but the room's record.
 */
describe('SFU ingest from a real RTSP camera (GStreamer RTSP server, ffmpeg, mediasoup, NATS)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sfu: RunningService;
  let detector: RunningService;
  let camera: RtspCamera;
  /** Every line the SFU printed (its own output buffer keeps only the last 2000). */
  const sfuOutput: string[] = [];
  const events: SfuEvent[] = [];
  const waiters = new Set<{ match: (e: SfuEvent) => boolean; resolve: (e: SfuEvent) => void }>();

  const event = (match: (e: SfuEvent) => boolean, from: number, timeoutMs = 90_000) => {
    const seen = events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<SfuEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching sfu event in ${timeoutMs} ms; saw ${JSON.stringify(events.slice(from))}`)), timeoutMs);
      waiters.add({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  };
  const streamState = (stream: string, state: string, from: number) => event((e) => e.type === 'stream_state' && e.stream === stream && e.state === state, from);
  /** The next `n` frames of a stream from now on: their sizes. */
  const frames = (stream: string, n: number, timeoutMs = 90_000) =>
    new Promise<Array<{ width: number; height: number }>>((resolve, reject) => {
      const seen: Array<{ width: number; height: number }> = [];
      const sub = nc.subscribe(subjects.frames('cams', stream), {
        callback: (_e, m) => {
          const meta = decodeFrameHeaders((h) => m.headers?.get(h) || undefined);
          seen.push({ width: meta.width, height: meta.height });
          if (seen.length < n) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(seen);
        },
      });
      const timer = setTimeout(() => (sub.unsubscribe(), reject(new Error(`${seen.length} of ${n} frames of cams/${stream} in ${timeoutMs} ms`))), timeoutMs);
    });
  const room = () => sfuOk(nc, INSTANCE, 'getRoom', { room: 'cams' });

  beforeAll(async () => {
    camera = await RtspCamera.start({ user: USER, password: PASSWORD });
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-rtsp-test' });
    nc.subscribe(subjects.sfuEventsAll(), {
      callback: (_e, m) => {
        const e = decodeJson(sfuEvent, m.data);
        events.push(e);
        for (const w of waiters) {
          if (!w.match(e)) continue;
          waiters.delete(w);
          w.resolve(e);
        }
      },
    });
    // debug: the ingest's ffmpeg command line is logged too, and must be redacted as well.
    [sfu, detector] = await Promise.all([
      startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', LOG_LEVEL: 'debug' }),
      // Detection only: the camera's frames are analysed like any other stream's.
      startService('detector', nats.url, { MAX_FRAME_AGE_MS: '5000', ANALYZERS: 'none' }),
    ]);
    for (const s of [sfu.child.stdout!, sfu.child.stderr!]) s.on('data', (d: Buffer) => sfuOutput.push(d.toString()));
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'cams', sampleFps: 4 });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  it('routes the camera\'s H.264 as it is: no encoder, frames at the camera\'s size on NATS, faces found in them', async () => {
    const firstFrames = frames('door', 5);
    // The fixture shows two faces: the detector finds them in the camera's frames.
    const faces = new Promise<number>((resolve) => {
      const sub = nc.subscribe(subjects.faces('cams', 'door'), {
        callback: (_e, m) => {
          const n = decodeJson(facesMessage, m.data).faces.length;
          if (n === 0) return;
          sub.unsubscribe();
          resolve(n);
        },
      });
    });
    await sfuOk(nc, INSTANCE, 'ingest', { room: 'cams', stream: 'door', url: camera.urlWithCredentials, loop: false });
    expect(await firstFrames).toEqual(Array(5).fill({ width: 640, height: 480 }));
    expect(await faces).toBeGreaterThan(0);
    expect(metricValue((await detector.get('/metrics')).body, 'lookout_detector_frames_processed_total', { room: 'cams' })).toBeGreaterThan(0);

    const info = (await room()).streams.find((s) => s.stream === 'door');
    expect(info).toMatchObject({ state: 'live', source: 'ingest', width: 640, height: 480 });
    expect(info?.ingest).toMatchObject({ mode: 'copy', codec: 'H264', sourceCodec: 'h264', url: `rtsp://${USER}:***@127.0.0.1:${camera.port}/cam` });
    // The camera's constrained baseline (profile_idc 0x42, constraint_set1): the router's 42e01f profile.
    expect(info?.ingest?.profileLevelId).toMatch(/^42[4-7c-f][0-9a-f]{3}$/);

    // The ingest's ffmpeg copies: no encoder anywhere on its command line.
    const ingests = [];
    for (const pid of await childProcesses(sfu.child.pid!, 'ffmpeg')) {
      const args = (await processCommandLine(pid)) ?? [];
      if (args.includes('-rtsp_transport')) ingests.push(args);
    }
    expect(ingests).toHaveLength(1);
    const args = ingests[0]!;
    expect(args[args.indexOf('-c:v') + 1]).toBe('copy');
    expect(args.join(' ')).not.toMatch(/libvpx|libx264|-b:v|-force_key_frames/);
    expect(args).toContain('tcp');

    const metrics = (await sfu.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_sfu_ingests_started_total', { mode: 'copy', codec: 'H264' })).toBe(1);

    // The room's record keeps the real URL: a restored ingest has to log in again.
    const record = await (await new Kvm(nc).open(kvBuckets.sfuRooms)).get('cams');
    expect(sfuRoomRecord.parse(record!.json()).ingests).toEqual([{ stream: 'door', url: camera.urlWithCredentials, loop: false }]);
  }, 120_000);

  it('a camera that goes away is reconnecting, and its frames come back by themselves when it returns', async () => {
    const from = events.length;
    await camera.stop();
    const reconnecting = await streamState('door', 'reconnecting', from);
    expect(reconnecting).toMatchObject({ room: 'cams', state: 'reconnecting' });
    expect((await room()).streams.find((s) => s.stream === 'door')?.state).toBe('reconnecting');

    // Down long enough for a retry or two to fail (connection refused, which ffmpeg reports with the URL).
    await event((e) => e.type === 'stream_state' && e.stream === 'door' && e.state === 'reconnecting' && e !== reconnecting, from, 60_000).catch(() => undefined);
    const back = events.length;
    await camera.start();
    const again = frames('door', 5, 120_000);
    await streamState('door', 'live', back);
    expect(await again).toEqual(Array(5).fill({ width: 640, height: 480 }));
    const info = (await room()).streams.find((s) => s.stream === 'door');
    expect(info).toMatchObject({ state: 'live', analysis: { state: 'live' }, ingest: { mode: 'copy', codec: 'H264' } });
  }, 240_000);

  it('a wrong password fails the ingest with an error that does not repeat it', async () => {
    const wrong = `rtsp://${USER}:not-the-Kx9-password@127.0.0.1:${camera.port}/cam`;
    const reply = await sfuCall(nc, INSTANCE, 'ingest', { room: 'cams', stream: 'intruder', url: wrong, loop: false }, 60_000);
    expect(reply.ok).toBe(false);
    const message = JSON.stringify(reply);
    expect(message).toContain(`rtsp://${USER}:***@127.0.0.1:${camera.port}/cam`);
    expect(message).not.toContain('not-the-Kx9-password');
    const failed = (await room()).streams.find((s) => s.stream === 'intruder');
    expect(failed).toMatchObject({ state: 'failed' });
    expect(JSON.stringify(failed)).not.toContain('not-the-Kx9-password');
  }, 90_000);

  it('the password appears in no SFU log line, no event, no room info, no metric', async () => {
    const logs = sfuOutput.join('');
    // The SFU did log about the camera (so the check below looks at something).
    expect(logs).toContain(`rtsp://${USER}:***@127.0.0.1:${camera.port}/cam`);
    for (const secret of [PASSWORD, 'not-the-Kx9-password']) {
      expect(logs).not.toContain(secret);
      expect(JSON.stringify(events)).not.toContain(secret);
      expect(JSON.stringify(await room())).not.toContain(secret);
      expect((await sfu.get('/metrics')).body).not.toContain(secret);
    }
  });
});
