import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { analysisMessage, decodeJson, kvBuckets, streamKey, streamMetricsEvent, subjects, type FacesMessage } from '@lookout/contracts';
import { metricValue, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const ROOM = 'shed';
const STREAM = 'cam-1';
const MAX_AGE_MS = 60_000;

/** A faces message of one face without a crop: the stream state moves, nothing is embedded. */
const faces = (seq: number, captureMs: number, stream = STREAM): FacesMessage => ({
  room: ROOM,
  stream,
  seq,
  captureMs,
  width: 640,
  height: 480,
  faces: [{ box: [100 + (seq % 5), 100, 200, 220], score: 0.95 }],
  timings: { detect: 5 },
  worker: 'test',
});

describe('reid sheds load (real nats-server, two reid replicas; faces messages sent by hand)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const reids: RunningService[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'reid-shedding-test' });
    reids.push(...(await Promise.all(['reid-a', 'reid-b'].map((id) => startService('reid', nats.url, { INSTANCE_ID: id, MAX_FRAME_AGE_MS: String(MAX_AGE_MS) })))));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all(reids.map((r) => r.stop()));
    await stopAllProcesses();
    await nats?.stop();
  });

  const metricsOf = () => Promise.all(reids.map(async (r) => (await r.get('/metrics')).body));
  const grown = (after: string[], before: string[], name: string, labels: Record<string, string>) =>
    after.reduce((s, body, i) => s + metricValue(body, name, labels) - metricValue(before[i]!, name, labels), 0);

  it('a burst: one waiting message per stream and replica, the rest superseded and counted; the state as if they never came; stale ones dropped', async () => {
    const answered: number[] = [];
    let other = 0;
    const perSecond: number[] = [];
    const subs = [
      nc.subscribe(subjects.analysis(ROOM, STREAM), { callback: (_e, m) => void answered.push(decodeJson(analysisMessage, m.data).seq) }),
      nc.subscribe(subjects.analysis(ROOM, 'cam-2'), { callback: () => void other++ }),
      nc.subscribe(subjects.metrics(ROOM, STREAM), { callback: (_e, m) => void perSecond.push(decodeJson(streamMetricsEvent, m.data).frames) }),
    ];
    const before = await metricsOf();
    const n = 300;
    const t0 = Date.now() - 30_000;
    // Ten messages a captured second, all sent at once: far more than two replicas can take.
    // One message of another stream in the middle is not starved by the busy one.
    for (let seq = 0; seq < n; seq++) {
      nc.publish(subjects.faces(ROOM, STREAM), JSON.stringify(faces(seq, t0 + seq * 100)));
      if (seq === n / 2) nc.publish(subjects.faces(ROOM, 'cam-2'), JSON.stringify(faces(0, t0, 'cam-2')));
    }

    let after = await metricsOf();
    const superseded = () => grown(after, before, 'lookout_reid_frames_dropped_total', { reason: 'superseded' });
    for (let i = 0; i < 100 && answered.length + superseded() < n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await metricsOf();
    }
    console.log(`burst of ${n}: ${answered.length} answered, ${superseded()} superseded`);
    expect(answered.length + superseded()).toBe(n);
    expect(superseded()).toBeGreaterThan(n / 2);
    expect(new Set(answered).size).toBe(answered.length);
    // The newest message is never superseded; the other stream's only one was handled.
    expect(answered).toContain(n - 1);
    expect(other).toBe(1);

    // What was shed never reached the state: its frames are the committed ones (less the
    // other stream's), the last is the newest.
    const committed = grown(after, before, 'lookout_reid_frames_total', { outcome: 'committed' });
    const kv = await new Kvm(nc).open(kvBuckets.streamState);
    const state = (await kv.get(streamKey(ROOM, STREAM)))!.json<{ lastSeq: number; metrics: { frames: number } | null }>();
    expect(state.lastSeq).toBe(n - 1);
    expect(perSecond.reduce((s, f) => s + f, 0) + (state.metrics?.frames ?? 0)).toBe(committed - other);

    // Older than MAX_FRAME_AGE_MS when its turn comes: dropped as stale; the stream goes on.
    nc.publish(subjects.faces(ROOM, STREAM), JSON.stringify(faces(n, Date.now() - 2 * MAX_AGE_MS)));
    nc.publish(subjects.faces(ROOM, STREAM), JSON.stringify(faces(n + 1, t0 + n * 100)));
    for (let i = 0; i < 100 && !answered.includes(n + 1); i++) await new Promise((r) => setTimeout(r, 50));
    expect(answered).toContain(n + 1);
    expect(answered).not.toContain(n);
    expect(grown(await metricsOf(), before, 'lookout_reid_frames_dropped_total', { reason: 'stale' })).toBe(1);
    for (const s of subs) s.unsubscribe();
  }, 60_000);
});
