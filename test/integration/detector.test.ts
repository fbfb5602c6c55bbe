import fs from 'node:fs';
import path from 'node:path';
import { connect, headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { decodeJson, facesMessage, kvBuckets, LookoutError, RPC_REQUEST_HEADER, rpc, rpcReply, subjects, type FacesMessage, type StageTimings } from '@lookout/contracts';
import sharp from 'sharp';
import { call, cropThumb } from '@lookout/service-kit';
import { FIXTURES, FramePublisher, metricValue, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const bbt4 = fs.readFileSync(path.join(FIXTURES, 'faces/group/fa_bbt4.jpg'));
const neutral = fs.readFileSync(path.join(FIXTURES, 'faces/expressions/fa_neutral.jpg'));

/** Every stage the detector times; `queue` is the wait before a stream frame's analysis. */
const STAGES = ['decode', 'detect', 'landmarks', 'pose', 'eyes', 'expression', 'liveness', 'crops', 'text', 'queue'];

/**
 * Timings that were measured: only known stage names, each a finite number of ms, and every
 * stage in `worked` (it ran models or codecs on a real face) took measurable time.
 */
function expectMeasured(timings: StageTimings, worked: readonly string[]): void {
  expect(Object.keys(timings).filter((k) => !STAGES.includes(k))).toEqual([]);
  for (const ms of Object.values(timings)) expect(Number.isFinite(ms) && ms >= 0 && ms < 60_000).toBe(true);
  for (const stage of worked) expect({ stage, ms: timings[stage] }).toEqual({ stage, ms: expect.any(Number) });
  for (const stage of worked) expect(timings[stage]).toBeGreaterThan(0);
}

/** Collects faces messages of one subject and lets a test await a given sequence number. */
class FacesCollector {
  readonly received: FacesMessage[] = [];
  private readonly waiters = new Map<number, (m: FacesMessage) => void>();
  private readonly sub: Subscription;
  constructor(nc: NatsConnection, room: string, stream: string) {
    this.sub = nc.subscribe(subjects.faces(room, stream), {
      callback: (_err, msg) => {
        const m = decodeJson(facesMessage, msg.data);
        this.received.push(m);
        this.waiters.get(m.seq)?.(m);
      },
    });
  }
  next(seq: number, timeoutMs = 20_000): Promise<FacesMessage> {
    const seen = this.received.find((m) => m.seq === seq);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no faces message for seq ${seq}`)), timeoutMs);
      this.waiters.set(seq, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

describe('detector service (two replicas, real nats-server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let frames: FramePublisher;
  const replicas: RunningService[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'detector-test' });
    frames = new FramePublisher(nc);
    // A generous frame age: two replicas load models on 2 cores while other test files run.
    const env = { MAX_FRAME_AGE_MS: '5000' };
    replicas.push(await startService('detector', nats.url, { ...env, INSTANCE_ID: 'detector-a' }));
    replicas.push(await startService('detector', nats.url, { ...env, INSTANCE_ID: 'detector-b' }));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  const processed = async () => {
    let sum = 0;
    for (const r of replicas) sum += metricValue((await r.get('/metrics')).body, 'lookout_detector_frames_processed_total', { room: 'share' });
    return sum;
  };

  it('shares one stream between replicas, each frame analysed exactly once', async () => {
    const faces = new FacesCollector(nc, 'share', 'cam');
    for (let i = 0; i < 16; i++) {
      const { seq } = frames.publish('share', 'cam', neutral);
      await faces.next(seq);
    }
    faces.close();
    const seqs = faces.received.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toHaveLength(16);
    expect(new Set(faces.received.map((m) => m.worker))).toEqual(new Set(['detector-a', 'detector-b']));
    expect(await processed()).toBe(16);
  });

  it('publishes the full per-face analysis, spreading the slow analyzers over a stream\'s frames as one cadence across replicas, and carrying their results with age', async () => {
    const learnedSlowRuns = async () => {
      let sum = 0;
      for (const r of replicas) {
        const body = (await r.get('/metrics')).body;
        for (const analyzer of ['expression', 'liveness', 'text']) sum += metricValue(body, 'lookout_detector_peer_runs_total', { analyzer });
      }
      return sum;
    };
    const learnedBefore = await learnedSlowRuns();
    const faces = new FacesCollector(nc, 'full', 'cam');
    const got: FacesMessage[] = [];
    for (let i = 0; i < 12; i++) got.push(await faces.next(frames.publish('full', 'cam', neutral).seq));
    faces.close();
    const SLOW = ['expression', 'liveness', 'text'] as const;
    const slowRun = (m: FacesMessage) => SLOW.filter((k) => k in m.timings);
    // Replicas share their cadences (each reads the others' faces messages): across both, in
    // the stream's order, at most one slow analyzer per frame, the most overdue first, and
    // every result carried with its age from the newest run, whichever replica made it.
    expect(new Set(got.map((m) => m.worker)).size).toBe(2);
    expect(got.map(slowRun).slice(0, 3).flat()).toEqual(SLOW);
    expect(got.every((m) => slowRun(m).length <= 1)).toBe(true);
    const expressionRuns = got.filter((m) => 'expression' in m.timings).map((m) => m.captureMs);
    for (let i = 1; i < expressionRuns.length; i++) expect(expressionRuns[i]! - expressionRuns[i - 1]!).toBeGreaterThanOrEqual(1000);
    got.forEach((m, i) => {
      const lastRun = (k: (typeof SLOW)[number]) => got.slice(0, i + 1).reverse().find((x) => k in x.timings);
      const face = m.faces[0]!;
      if (lastRun('expression')) expect(face.expression!.ageMs).toBe(m.captureMs - lastRun('expression')!.captureMs);
      if (lastRun('liveness')) expect(face.liveness!.ageMs).toBe(m.captureMs - lastRun('liveness')!.captureMs);
      if (lastRun('text')) expect(m.text!.ageMs).toBe(m.captureMs - lastRun('text')!.captureMs);
    });
    // Every slow run is learned by the other replica (the first three frames' runs surely
    // by now: nine frames came after them).
    expect((await learnedSlowRuns()) - learnedBefore).toBeGreaterThanOrEqual(3);
    const full = got.find((m) => m.faces[0]!.liveness && m.text)!;
    expect(Object.keys(full.faces[0]!).sort()).toEqual(['box', 'crop', 'expression', 'eyes', 'landmarks', 'liveness', 'pose', 'score', 'thumb']);
    // The crop's thumbnail (what reid's embed decision compares) is the one reid would make from the JPEG, within its noise.
    const decoded = await sharp(Buffer.from(full.faces[0]!.crop!.data, 'base64')).raw().toBuffer();
    const [sent, remade] = [Buffer.from(full.faces[0]!.thumb!, 'base64'), Buffer.from(cropThumb(decoded, 112), 'base64')];
    expect(sent.length).toBe(256);
    expect(sent.reduce((sum, v, i) => sum + Math.abs(v - remade[i]!), 0) / sent.length).toBeLessThan(1.5);
    expect(full.faces[0]!.expression!.label).toBe('neutral');
    // Every frame times what it ran (the slow analyzers only where they ran), nothing else.
    for (const m of got) {
      expectMeasured(m.timings, ['decode', 'detect', 'landmarks', 'eyes', 'crops', ...slowRun(m), ...('pose' in m.timings ? ['pose'] : [])]);
      expect(m.timings.queue).toEqual(expect.any(Number));
    }
  });

  it('keeps a still face\'s pose for up to a second across replicas, and runs the pose model again at once when the face turns', async () => {
    const turned = fs.readFileSync(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama2.jpg'));
    const faces = new FacesCollector(nc, 'still', 'cam');
    const got: FacesMessage[] = [];
    for (let i = 0; i < 12; i++) got.push(await faces.next(frames.publish('still', 'cam', neutral).seq));
    const turn = await faces.next(frames.publish('still', 'cam', turned).seq);
    faces.close();
    const ran = got.filter((m) => 'pose' in m.timings);
    expect(ran[0]).toBe(got[0]);
    // The same picture again: the pose is carried, with its age, whichever replica computed it;
    // it is computed again only once it is a second old.
    for (let i = 1; i < ran.length; i++) expect(ran[i]!.captureMs - ran[i - 1]!.captureMs).toBeGreaterThan(1000);
    expect(ran.length).toBeLessThan(got.length);
    got.forEach((m, i) => {
      const last = got.slice(0, i + 1).reverse().find((x) => 'pose' in x.timings)!;
      expect(m.faces[0]!.pose!.ageMs).toBe(m.captureMs - last.captureMs);
      expect(m.faces[0]!.pose!.yaw).toBe(last.faces[0]!.pose!.yaw);
    });
    expect(new Set(got.map((m) => m.worker)).size).toBe(2);
    // Another face (another shape) on the next frame: run at once.
    expect('pose' in turn.timings).toBe(true);
    expect(turn.faces[0]!.pose!.ageMs).toBe(0);
  });

  it('drops stale frames and counts them', async () => {
    const before = await Promise.all(replicas.map(async (r) => metricValue((await r.get('/metrics')).body, 'lookout_detector_frames_dropped_total', { reason: 'stale' })));
    const faces = new FacesCollector(nc, 'stale', 'cam');
    const old = frames.publish('stale', 'cam', neutral, { captureMs: Date.now() - 60_000 });
    const fresh = frames.publish('stale', 'cam2', neutral);
    await new FacesCollector(nc, 'stale', 'cam2').next(fresh.seq);
    const after = await Promise.all(replicas.map(async (r) => metricValue((await r.get('/metrics')).body, 'lookout_detector_frames_dropped_total', { reason: 'stale' })));
    expect(after.reduce((a, b) => a + b) - before.reduce((a, b) => a + b)).toBe(1);
    expect(faces.received.some((m) => m.seq === old.seq)).toBe(false);
    faces.close();
  });

  it('answers detector.analyze with the full result, and with a coded error for bad input', async () => {
    const badFrames = async () => {
      let n = 0;
      for (const r of replicas) n += metricValue((await r.get('/metrics')).body, 'lookout_bad_messages_total', { subject_kind: 'analyze', reason: 'not_jpeg' });
      return n;
    };
    const before = await badFrames();
    const ok = await call(nc, rpc.detector.analyze, {}, { payload: bbt4 });
    expect(ok.faces).toHaveLength(6);
    expect(ok.faces.every((f) => f.pose && f.expression && f.liveness)).toBe(true);
    // One image runs every analyzer, and each one's time is measured.
    expectMeasured(ok.timings, ['decode', 'detect', 'landmarks', 'pose', 'eyes', 'expression', 'liveness', 'crops', 'text']);
    expect(ok.timings.queue).toBeUndefined();

    const bad = await call(nc, rpc.detector.analyze, {}, { payload: new TextEncoder().encode('not an image') }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(LookoutError);
    expect(bad).toMatchObject({ code: 'not_jpeg', message: expect.stringContaining('SOI') });
    expect((await badFrames()) - before).toBe(1);

    // A room that is not an id: `call` refuses to send it, so the request goes out by hand.
    const h = headers();
    h.set(RPC_REQUEST_HEADER, JSON.stringify({ room: 'a.b' }));
    const badRoom = rpcReply.parse((await nc.request(subjects.detectorAnalyze(), bbt4, { timeout: 20_000, headers: h })).json());
    expect(badRoom).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'room' } });
  });

  it('applies a room\'s analysis config from KV live, and ignores an invalid one', async () => {
    // The detectors opened it at start (from the storage table).
    const kv = await new Kvm(nc).open(kvBuckets.roomConfig);
    const updated = Promise.all(replicas.map((r) => r.waitForLine((l) => l.includes('room config updated') && l.includes('"key":"quiet"'))));
    await kv.put('quiet', JSON.stringify({ analyzers: { pose: { enabled: false }, expression: { enabled: false }, crops: { enabled: false } } }));
    await updated;
    const rejected = Promise.all(replicas.map((r) => r.waitForLine((l) => l.includes('ignored invalid room config'))));
    await kv.put('broken', JSON.stringify({ analyzers: { pose: { intervalMs: -5 } } }));
    await rejected;

    const quiet = new FacesCollector(nc, 'quiet', 'cam');
    const face = (await quiet.next(frames.publish('quiet', 'cam', neutral).seq)).faces[0]!;
    expect(face.pose).toBeUndefined();
    expect(face.expression).toBeUndefined();
    expect(face.crop).toBeUndefined();
    expect(face.eyes).toBeDefined();
    quiet.close();

    const broken = new FacesCollector(nc, 'broken', 'cam');
    expect((await broken.next(frames.publish('broken', 'cam', neutral).seq)).faces[0]!.pose).toBeDefined();
    broken.close();
    const bad = metricValue((await replicas[0]!.get('/metrics')).body, 'lookout_bad_messages_total', { subject_kind: 'room_config' });
    expect(bad).toBe(1);
  });
});
