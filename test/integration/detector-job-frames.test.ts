import fs from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { decodeJson, facesMessage, kvBuckets, LookoutError, rpc, subjects, type AnalyzeFrameRequest, type FacesMessage } from '@lookout/contracts';
import { call } from '@lookout/service-kit';
import { FIXTURES, FramePublisher, metricValue, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const neutral = fs.readFileSync(path.join(FIXTURES, 'faces/expressions/fa_neutral.jpg'));
const JOB_QUEUE_MAX = 1;

/**
 * `detector.analyze_frame` against one real detector: a recording job's frame is answered
 * with the faces message of a live frame, with the stream's cadence on the frames' capture
 * (video) time; live frames go first; a full job queue answers `busy`; nothing of a job
 * is published on `faces.*`.
 */
describe('detector: recording-job frames (detector.analyze_frame)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  let facesSub: Subscription;
  const published: FacesMessage[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'detector-job-frames-test' });
    // A generous frame age: the live frame of the priority test waits behind a job frame on a busy machine.
    detector = await startService('detector', nats.url, { INSTANCE_ID: 'detector-j', DETECTOR_JOB_QUEUE_MAX: String(JOB_QUEUE_MAX), MAX_FRAME_AGE_MS: '60000' });
    facesSub = nc.subscribe(subjects.all('faces'), { callback: (_err, msg) => void published.push(decodeJson(facesMessage, msg.data)) });
  }, 150_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  const metric = async (name: string, labels: Record<string, string>) => metricValue((await detector.get('/metrics')).body, name, labels);
  const frame = (job: string, seq: number, captureMs: number): AnalyzeFrameRequest => ({ job, room: `rec-${job}`, stream: 'video', seq, captureMs });
  const analyzeFrame = (request: AnalyzeFrameRequest, payload: Uint8Array = neutral) => call(nc, rpc.detector.analyzeFrame, request, { payload });
  /** Settles to the reply or the LookoutError, so parallel requests can be counted by outcome. */
  const settle = (p: Promise<FacesMessage>) => p.then((m) => m, (err: unknown) => err);

  it('answers a job frame with the faces message of a live frame, on the stream\'s cadence in video time', async () => {
    // Seven frames 200 ms of video apart, sent one after the other as fast as they are
    // answered: the slow analyzers follow capture time, not the wall clock, so expression
    // (every 1000 ms) runs at video time 0 and 1000 whatever the analysis speed.
    const base = 1_700_000_000_000;
    const got: FacesMessage[] = [];
    for (let i = 0; i < 7; i++) got.push(await analyzeFrame(frame('cadence', 10 + i, base + 200 * i)));
    got.forEach((m, i) => {
      expect(m).toMatchObject({ room: 'rec-cadence', stream: 'video', seq: 10 + i, captureMs: base + 200 * i, width: expect.any(Number), worker: 'detector-j' });
      expect(m.faces).toHaveLength(1);
      expect(m.timings.queue).toEqual(expect.any(Number));
    });
    expect(got.filter((m) => 'expression' in m.timings).map((m) => m.captureMs - base)).toEqual([0, 1000]);
    expect(got[2]!.faces[0]!.expression).toEqual({ label: 'neutral', probabilities: expect.any(Object), ageMs: 400 });
    expect(got[0]!.faces[0]).toEqual(expect.objectContaining({ pose: expect.any(Object), eyes: expect.any(Object), landmarks: expect.any(Array), crop: expect.any(Object) }));
  });

  it('applies the job room\'s analysis config', async () => {
    const kv = await new Kvm(nc).open(kvBuckets.roomConfig);
    const updated = detector.waitForLine((l) => l.includes('room config updated') && l.includes('"key":"rec-quiet"'));
    await kv.put('rec-quiet', JSON.stringify({ analyzers: { pose: { enabled: false }, crops: { enabled: false } } }));
    await updated;
    const face = (await analyzeFrame(frame('quiet', 0, 5_000))).faces[0]!;
    expect(face.pose).toBeUndefined();
    expect(face.crop).toBeUndefined();
    expect(face.eyes).toBeDefined();
  });

  it('answers a bad picture with its code and counts it', async () => {
    const notJpeg = await settle(analyzeFrame(frame('bad', 0, 0), new TextEncoder().encode('not an image')));
    expect(notJpeg).toBeInstanceOf(LookoutError);
    expect(notJpeg).toMatchObject({ code: 'not_jpeg' });
    const truncated = await settle(analyzeFrame(frame('bad', 1, 200), neutral.subarray(0, Math.floor(neutral.length / 2))));
    expect(truncated).toMatchObject({ code: 'corrupt' });
    expect(await metric('lookout_bad_messages_total', { subject_kind: 'analyze_frame', reason: 'not_jpeg' })).toBe(1);
    expect(await metric('lookout_bad_messages_total', { subject_kind: 'analyze_frame', reason: 'corrupt' })).toBe(1);
    expect(await metric('lookout_detector_job_frames_total', { outcome: 'bad_frame' })).toBe(2);
  });

  it('takes a live frame before a waiting job frame, answers busy beyond the job queue, and answers every other frame', async () => {
    const busyBefore = await metric('lookout_detector_job_frames_total', { outcome: 'busy' });
    const order: string[] = [];
    const live = new FramePublisher(nc);
    const liveSeen = new Promise<void>((resolve) => {
      const sub = nc.subscribe(subjects.faces('live', 'cam'), {
        max: 1,
        callback: () => {
          order.push('live');
          resolve();
          sub.unsubscribe();
        },
      });
    });
    await nc.flush();
    // All sent at once on one connection, so they reach the detector in this order: the
    // first job frame starts, the second waits (JOB_QUEUE_MAX = 1), the rest find the
    // queue full; the live frame, sent last, still goes before the waiting job frame.
    const N = 6;
    const jobs = Array.from({ length: N }, (_, i) =>
      settle(
        analyzeFrame(frame('burst', i, 1_000 + 200 * i)).then((m) => {
          order.push(`job${i}`);
          return m;
        }),
      ),
    );
    live.publish('live', 'cam', neutral);
    const outcomes = await Promise.all(jobs);
    await liveSeen;

    const busy = outcomes.filter((o) => o instanceof LookoutError && o.code === 'busy');
    const ok = outcomes.filter((o): o is FacesMessage => !(o instanceof Error));
    expect(busy.length + ok.length).toBe(N);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(ok.every((m) => m.faces.length === 1 && m.room === 'rec-burst')).toBe(true);
    expect(outcomes.slice(0, 2).every((o) => !(o instanceof Error))).toBe(true);
    expect(order.slice(0, 3)).toEqual(['job0', 'live', 'job1']);
    expect((await metric('lookout_detector_job_frames_total', { outcome: 'busy' })) - busyBefore).toBe(busy.length);
    expect(await metric('lookout_detector_job_frames_waiting', {})).toBe(0);
  });

  it('publishes nothing of a job on faces.*', async () => {
    await nc.flush();
    expect(published.map((m) => m.room)).toEqual(['live']);
    expect(await metric('lookout_detector_job_frames_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(10);
    facesSub.unsubscribe();
  });
});
