import fs from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { iou, WS_PATH, type ServiceName } from '@lookout/contracts';
import {
  FIXTURES,
  FramePublisher,
  isAck,
  isAnalysis,
  isError,
  metricValue,
  roomToken,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  TestWsClient,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

type Box = [number, number, number, number];

const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'faces/manifest.json'), 'utf8')) as {
  group: Array<{ file: string; faces: number; boxes: Box[] }>;
};
const bbt4 = manifest.group.find((g) => g.file === 'group/fa_bbt4.jpg')!;
const bbt4Jpeg = fs.readFileSync(path.join(FIXTURES, 'faces', bbt4.file));

describe('first frame through the whole pipe (real nats-server, services as processes)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const services = new Map<ServiceName, RunningService>();
  let client: TestWsClient;
  let frames: FramePublisher;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'pipeline-test' });
    frames = new FramePublisher(nc);
    // Each test sends one frame and waits for its result: on a busy CI machine, models run
    // for the first time (and calibrated on a fresh clone) can take that frame past the
    // default age limits (detector 500 ms, reid 3 s), and a frame shed is a frame never
    // answered. Shedding has its own tests (reid-shedding, the detector's); here, wait.
    const patient = { MAX_FRAME_AGE_MS: '60000' };
    const started = await Promise.all(
      (['detector', 'reid', 'gateway', 'sfu'] as const).map(
        async (name) => [name, await startService(name, nats.url, { MEDIASOUP_WORKERS: '1', ...(name === 'gateway' ? TEST_GATEWAY_ENV : {}), ...(name === 'detector' || name === 'reid' ? patient : {}) })] as const,
      ),
    );
    for (const [name, svc] of started) services.set(name, svc);
    client = await TestWsClient.connect(`ws://127.0.0.1:${services.get('gateway')!.httpPort}${WS_PATH}`);
    await client.join('lobby', roomToken('lobby', 'viewer'));
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await Promise.all([...services.values()].map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
  });

  it('delivers the six faces of fa_bbt4.jpg to a WebSocket client, boxes in original pixels', async () => {
    client.send({ type: 'subscribe', room: 'lobby', id: 's1' });
    expect(await client.next(isAck)).toMatchObject({ op: 'subscribe', room: 'lobby', id: 's1' });

    frames.publish('lobby', 'cam-1', bbt4Jpeg);
    const { data } = await client.next(isAnalysis);

    expect(data).toMatchObject({ room: 'lobby', stream: 'cam-1' });
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'faces/manifest.json'), 'utf8')).group.find((g: { file: string }) => g.file === bbt4.file);
    expect([data.width, data.height]).toEqual([meta.width, meta.height]);
    expect(data.faces).toHaveLength(bbt4.faces);
    for (const expected of bbt4.boxes) {
      const best = Math.max(...data.faces.map((f) => iou(f.box, expected)));
      expect(best).toBeGreaterThanOrEqual(0.3);
    }
    expect(data.timings.detect).toBeGreaterThan(0);
    expect(data.faces.every((f) => f.identity === null)).toBe(true);
  });

  it('counts a truncated JPEG as a bad frame, survives it, and keeps the next good frame flowing', async () => {
    const detector = services.get('detector')!;
    const before = metricValue((await detector.get('/metrics')).body, 'lookout_detector_frames_dropped_total', { reason: 'bad_frame' });

    frames.publish('lobby', 'cam-2', bbt4Jpeg.subarray(0, Math.floor(bbt4Jpeg.length / 2)));
    frames.publish('lobby', 'cam-3', bbt4Jpeg);

    const { data } = await client.next(isAnalysis);
    expect(data.stream).toBe('cam-3');
    expect(data.faces).toHaveLength(6);

    const metrics = (await detector.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_detector_frames_dropped_total', { reason: 'bad_frame' })).toBe(before + 1);
    expect(metricValue(metrics, 'lookout_bad_messages_total', { subject_kind: 'frames', reason: 'corrupt' })).toBe(1);
    expect(detector.child.exitCode).toBeNull();
    expect((await detector.get('/readyz')).status).toBe(200);
  });

  it('rejects a malformed WebSocket message with an error naming the field', async () => {
    client.send({ type: 'subscribe', room: 'no.dots>' });
    const err = await client.next(isError);
    expect(err).toMatchObject({ code: 'invalid_message', field: 'room' });
  });

  it('exposes /healthz, /readyz and /metrics on every service', async () => {
    for (const [name, svc] of services) {
      expect([name, (await svc.get('/healthz')).status]).toEqual([name, 200]);
      expect([name, (await svc.get('/readyz')).status]).toEqual([name, 200]);
      const metrics = await svc.get('/metrics');
      expect(metrics.body).toContain('process_cpu_seconds_total');
    }
  });

  it('every service exits 0 on SIGTERM after draining', async () => {
    const codes = await Promise.all([...services].map(async ([name, svc]) => [name, await svc.stop()]));
    expect(Object.fromEntries(codes)).toEqual({ detector: 0, reid: 0, gateway: 0, sfu: 0 });
    expect(services.get('detector')!.output.some((l) => l.includes('shutdown complete'))).toBe(true);
  });
});
