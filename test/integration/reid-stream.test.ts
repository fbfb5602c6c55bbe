import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  alertEvent,
  analysisMessage,
  decodeJson,
  EVENT_STREAM,
  facesMessage,
  kvBuckets,
  recognitionEvent,
  rpc,
  streamKey,
  streamMetricsEvent,
  subjects,
  type AlertEvent,
  type AnalysisMessage,
  type FacesMessage,
  type StreamMetricsEvent,
} from '@lookout/contracts';
import { FramePublisher, galleryCall, metricValue, rawRpc, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';
import { enrollVideoPeople, extractVideoFrames, SWITCH_FRAME, VIDEO_FPS } from '@lookout/testkit';


/** Collects every message on a subject, decoded; `until` resolves when a predicate holds. */
class Collector<T> {
  readonly items: T[] = [];
  private readonly sub: Subscription;
  private waiters: Array<{ check: (items: T[]) => boolean; resolve: () => void }> = [];
  constructor(nc: NatsConnection, subject: string, decode: (data: Uint8Array) => T) {
    this.sub = nc.subscribe(subject, {
      callback: (_e, m) => {
        this.items.push(decode(m.data));
        this.waiters = this.waiters.filter((w) => (w.check(this.items) ? (w.resolve(), false) : true));
      },
    });
  }
  until(check: (items: T[]) => boolean, timeoutMs = 60_000): Promise<void> {
    if (check(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out with ${this.items.length} messages`)), timeoutMs);
      this.waiters.push({ check, resolve: () => (clearTimeout(t), resolve()) });
    });
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

const REID_ENV = (id: string) => ({ INSTANCE_ID: id, MAX_FRAME_AGE_MS: '3600000' });

/** Sum over replicas of a metric's growth since `before` (bodies of /metrics). */
function grown(after: string[], before: string[], name: string, labels: Record<string, string> = {}): number {
  return after.reduce((s, body, i) => s + metricValue(body, name, labels) - metricValue(before[i] ?? '', name, labels), 0);
}

/**
 * Waits until every one of `n` messages is answered (an analysis) or was superseded in a
 * replica's queue, as the replicas' metrics count it; returns the metrics then.
 */
async function untilAccounted(analyses: Collector<AnalysisMessage>, reids: RunningService[], before: string[], n: number): Promise<string[]> {
  const metricsOf = () => Promise.all(reids.map(async (r) => (await r.get('/metrics')).body));
  let after = await metricsOf();
  for (let i = 0; i < 100 && analyses.items.length + grown(after, before, 'lookout_reid_frames_dropped_total', { reason: 'superseded' }) < n; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await metricsOf();
  }
  return after;
}

describe('reid on a live stream (real nats-server, detector, reid; the two-person video frame by frame)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  const reids: RunningService[] = [];
  let frameDir: string;
  const recorded: FacesMessage[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'reid-stream-test' });
    frameDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-frames-'));
    extractVideoFrames(frameDir);
    // Frames are fed one at a time with capture times of the video, not of the wall clock:
    // neither stage may drop them as stale (the shedding test below sets its own times).
    const [d, r] = await Promise.all([startService('detector', nats.url, { MAX_FRAME_AGE_MS: '3600000' }), startService('reid', nats.url, REID_ENV('reid-a'))]);
    detector = d;
    reids.push(r);
    await enrollVideoPeople(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([detector?.stop(), ...reids.map((r) => r.stop())]);
    await stopAllProcesses();
    await nats?.stop();
    if (frameDir) fs.rmSync(frameDir, { recursive: true, force: true });
  });

  it('names the person, and raises identity_changed once, within 1 s of the switch, with both names', async () => {
    const room = 'exam';
    const stream = 'cam-1';
    const analyses = new Collector<AnalysisMessage>(nc, subjects.analysis(room, stream), (d) => decodeJson(analysisMessage, d));
    const alerts = new Collector<AlertEvent>(nc, subjects.alerts(room, stream), (d) => decodeJson(alertEvent, d));
    const faces = new Collector<FacesMessage>(nc, subjects.faces(room, stream), (d) => decodeJson(facesMessage, d));
    const frames = new FramePublisher(nc);
    const files = fs.readdirSync(frameDir).sort();
    const metricsBefore = [(await reids[0]!.get('/metrics')).body];
    const t0 = Date.now() - 60_000;
    for (const [i, f] of files.entries()) {
      frames.publish(room, stream, fs.readFileSync(path.join(frameDir, f)), { seq: i, captureMs: t0 + Math.round((i * 1000) / VIDEO_FPS) });
      await analyses.until((a) => a.some((m) => m.seq === i));
    }
    recorded.push(...faces.items);
    [analyses, alerts, faces].forEach((c) => c.close());

    const named = (from: number, to: number) => analyses.items.filter((a) => a.seq >= from && a.seq < to).map((a) => a.faces[0]?.identity?.name ?? null);
    const before = named(5, SWITCH_FRAME);
    const after = named(SWITCH_FRAME + 5, files.length);
    expect(before.filter((n) => n === 'Barack Obama').length / before.length).toBeGreaterThan(0.9);
    expect(after.filter((n) => n === 'Angelina Jolie').length / after.length).toBeGreaterThan(0.9);
    expect(analyses.items.find((a) => a.seq === 40)?.faces[0]).toMatchObject({ trackId: expect.any(String), principal: true, scores: expect.any(Object) });

    // Embeddings only when they matter: a steady face is embedded about once a second, and
    // the cut is embedded at once (only its embedding can start a new track at the same place).
    const metricsAfter = [(await reids[0]!.get('/metrics')).body];
    const byReason = ['new_track', 'settling', 'changed', 'refresh', 'late'].map((reason) => [reason, grown(metricsAfter, metricsBefore, 'lookout_reid_embeddings_total', { reason })] as const);
    const embedded = byReason.reduce((sum, [, n]) => sum + n, 0);
    const faceCount = grown(metricsAfter, metricsBefore, 'lookout_reid_faces_total');
    console.log(`embeddings: ${embedded} for ${faceCount} faces in ${files.length} frames (${byReason.map(([r, n]) => `${r} ${n}`).join(', ')})`);
    expect(faceCount).toBeGreaterThanOrEqual(files.length);
    expect(embedded).toBeLessThan(faceCount / 3);
    const trackAt = (seq: number) => analyses.items.find((a) => a.seq === seq)?.faces[0]?.trackId;
    expect(trackAt(SWITCH_FRAME)).toBeDefined();
    expect(trackAt(SWITCH_FRAME)).not.toBe(trackAt(SWITCH_FRAME - 1));

    const changed = alerts.items.filter((a) => a.kind === 'identity_changed');
    expect(changed.filter((a) => a.state === 'open')).toHaveLength(1);
    const open = changed[0]!;
    const switchMs = t0 + Math.round((SWITCH_FRAME * 1000) / VIDEO_FPS);
    expect(open.startMs).toBeGreaterThanOrEqual(switchMs);
    const openedAt = analyses.items.find((a) => a.seq === open.startSeq);
    expect(open.startMs - switchMs).toBeLessThanOrEqual(1000);
    console.log(`identity_changed: episode starts ${open.startMs - switchMs} ms after the cut (frame ${open.startSeq}, cut at ${SWITCH_FRAME})`);
    expect(openedAt).toBeDefined();
    expect(open).toMatchObject({ severity: 'critical', from: { subjectId: 'obama', name: 'Barack Obama' }, to: { subjectId: 'jolie', name: 'Angelina Jolie' } });
    expect(open.message).toMatch(/Barack Obama.*Angelina Jolie/);
    expect(open.faceRef).toEqual(expect.any(String));
    // The operator confirms: the newcomer is not the principal; the face ref carries the embedding.
    expect(await galleryCall(nc, 'negative', { subjectId: 'obama', faceRef: open.faceRef })).toMatchObject({ ok: true, subject: { negatives: 1 } });

    // The same events are in the JetStream stream, with recognitions and per-second metrics.
    const stored = await readEvents(nc, `${room}.${stream}`);
    expect(stored.alerts.filter((a) => a.kind === 'identity_changed' && a.state === 'open')).toHaveLength(1);
    expect(stored.recognitions.map((r) => `${r.decision}:${r.subjectId}`).sort()).toEqual(['PASS:jolie', 'PASS:obama']);
    expect(stored.metrics.length).toBeGreaterThanOrEqual(10);
    expect(stored.metrics.some((m) => m.scores.engagement !== null)).toBe(true);
  }, 180_000);

  it('two reid replicas on one stream: every frame answered or superseded, no lost state update, no duplicate alert', async () => {
    expect(recorded.length).toBe(180);
    reids.push(await startService('reid', nats.url, REID_ENV('reid-b')));
    const room = 'exam2';
    const stream = 'cam-2';
    const analyses = new Collector<AnalysisMessage>(nc, subjects.analysis(room, stream), (d) => decodeJson(analysisMessage, d));
    const alerts = new Collector<AlertEvent>(nc, subjects.alerts(room, stream), (d) => decodeJson(alertEvent, d));
    const metricsBefore = await Promise.all(reids.map((r) => r.get('/metrics')));
    // Two at a time, so both replicas often work on the stream at the same time. A replica
    // that gets both while still busy with the stream keeps only the newer (superseded:
    // counted, never in the state), so the next pair goes once the newer one is answered.
    for (let i = 0; i < recorded.length; i += 2) {
      const pair = recorded.slice(i, i + 2);
      for (const m of pair) nc.publish(subjects.faces(room, stream), JSON.stringify({ ...m, room, stream }));
      await analyses.until((a) => a.some((x) => x.seq === pair.at(-1)!.seq));
    }
    const bodies = await untilAccounted(analyses, reids, metricsBefore.map((m) => m.body), recorded.length);
    const metrics = bodies.map((body) => ({ body }));
    const count = (outcome: string) => metrics.reduce((s, m, i) => s + metricValue(m.body, 'lookout_reid_frames_total', { outcome }) - metricValue(metricsBefore[i]!.body, 'lookout_reid_frames_total', { outcome }), 0);
    const committed = count('committed');
    // Both replicas took frames of the stream (a slower one may see all of its frames overtaken: late).
    const handled = metrics.map((m, i) =>
      ['committed', 'late', 'uncommitted'].reduce((s, outcome) => s + metricValue(m.body, 'lookout_reid_frames_total', { outcome }) - metricValue(metricsBefore[i]!.body, 'lookout_reid_frames_total', { outcome }), 0),
    );
    expect(handled.every((n) => n > 0)).toBe(true);
    expect(committed).toBeGreaterThan(recorded.length / 4);
    const conflicts = metrics.reduce((s, m, i) => s + metricValue(m.body, 'lookout_reid_state_conflicts_total') - metricValue(metricsBefore[i]!.body, 'lookout_reid_state_conflicts_total'), 0);
    console.log(`two replicas: ${committed} frames committed, ${count('late')} late, ${count('uncommitted')} uncommitted, ${conflicts} compare-and-set conflicts retried; per replica ${handled.join(' / ')}`);
    const superseded = grown(bodies, metricsBefore.map((m) => m.body), 'lookout_reid_frames_dropped_total', { reason: 'superseded' });
    console.log(`two replicas: ${superseded} superseded`);
    expect(superseded).toBeLessThan(recorded.length / 4);
    expect(committed + count('late') + count('uncommitted')).toBe(analyses.items.length);
    expect(analyses.items.length + superseded).toBe(recorded.length);

    // Every committed frame is in the state exactly once: per-second frame counts add up.
    const kv = await new Kvm(nc).open(kvBuckets.streamState);
    const state = (await kv.get(streamKey(room, stream)))!.json<{ lastSeq: number; metrics: { frames: number } }>();
    expect(state.lastSeq).toBe(179);
    const stored = await readEvents(nc, `${room}.${stream}`);
    expect(stored.metrics.reduce((s, m) => s + m.frames, 0) + state.metrics.frames).toBe(committed);

    const opened = alerts.items.filter((a) => a.state === 'open');
    expect(new Set(opened.map((a) => a.id)).size).toBe(opened.length);
    expect(opened.filter((a) => a.kind === 'identity_changed')).toHaveLength(1);
    expect(stored.alerts.filter((a) => a.kind === 'identity_changed' && a.state === 'open')).toHaveLength(1);
    // The recognition cooldown is shared: one PASS per person although both replicas saw them.
    expect(stored.recognitions.map((r) => `${r.decision}:${r.subjectId}`).sort()).toEqual(['PASS:jolie', 'PASS:obama']);
    analyses.close();
    alerts.close();
  }, 180_000);

  it('a session names the expected person and its own thresholds; its events carry the session id', async () => {
    const room = 'exam3';
    const stream = 'cam-3';
    const sessions = await new Kvm(nc).open(kvBuckets.streamSessions);
    await sessions.put(streamKey(room, stream), JSON.stringify({ sessionId: 'sess-1', expectedSubjectId: 'jolie', startedMs: Date.now(), rules: { identity_changed: { severity: 'warning' } } }));
    const analyses = new Collector<AnalysisMessage>(nc, subjects.analysis(room, stream), (d) => decodeJson(analysisMessage, d));
    const alerts = new Collector<AlertEvent>(nc, subjects.alerts(room, stream), (d) => decodeJson(alertEvent, d));
    // The watch on the sessions bucket delivers within milliseconds; wait for it via the analysis.
    for (const m of recorded.slice(0, 20)) {
      nc.publish(subjects.faces(room, stream), JSON.stringify({ ...m, room, stream }));
      await analyses.until((a) => a.some((x) => x.seq === m.seq));
    }
    await alerts.until((a) => a.some((x) => x.kind === 'identity_changed'));
    const last = analyses.items.at(-1)!;
    expect(last).toMatchObject({ sessionId: 'sess-1', principal: { subjectId: 'jolie', expected: true, status: 'replaced' } });
    expect(alerts.items.find((a) => a.kind === 'identity_changed')).toMatchObject({
      state: 'open',
      severity: 'warning',
      sessionId: 'sess-1',
      from: { subjectId: 'jolie' },
      to: { subjectId: 'obama', name: 'Barack Obama' },
    });
    analyses.close();
    alerts.close();
  }, 60_000);

  it('a stream that ends closes its open episodes: on the SFU stream-closed event, or when asked', async () => {
    const alerts = new Collector<AlertEvent>(nc, 'alerts.>', (d) => decodeJson(alertEvent, d));
    nc.publish(subjects.sfuEvents('exam3'), JSON.stringify({ type: 'stream_state', room: 'exam3', stream: 'cam-3', state: 'closed' }));
    await alerts.until((a) => a.some((x) => x.room === 'exam3' && x.kind === 'identity_changed' && x.state === 'closed'));
    const closed = alerts.items.find((x) => x.room === 'exam3' && x.kind === 'identity_changed')!;
    expect(closed).toMatchObject({ sessionId: 'sess-1', endSeq: expect.any(Number), endMs: expect.any(Number) });
    expect(closed.message).toMatch(/stream closed/);

    // Sent as given (a malformed one too), answered in the RPC envelope.
    const reply = (body: unknown) => rawRpc(nc, subjects.reidEndStream(), body, 10_000);
    const ended = await reply({ room: 'exam', stream: 'cam-1', reason: 'session ended' });
    if (!ended.ok) throw new Error(`end_stream failed: ${JSON.stringify(ended.error)}`);
    const { closedEpisodes } = rpc.reid.endStream.reply.parse(ended.data);
    expect(closedEpisodes).toBeGreaterThanOrEqual(1);
    await alerts.until((a) => a.filter((x) => x.room === 'exam' && x.state === 'closed').length === closedEpisodes);
    console.log(`end_stream closed: ${alerts.items.filter((x) => x.room === 'exam').map((x) => `${x.kind} (${x.message})`).join('; ')}`);
    expect(alerts.items.find((x) => x.room === 'exam' && x.kind === 'identity_changed')?.message).toMatch(/session ended/);
    expect(await reply({ room: 'exam', stream: 'cam-1' })).toEqual({ ok: true, data: { closedEpisodes: 0 } });
    expect(await reply({ room: 'exam', stream: 'a b' })).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'stream' } });
    alerts.close();
  }, 60_000);

  it('a malformed faces message is counted and dropped; the stream goes on', async () => {
    nc.publish(subjects.faces('exam', 'cam-9'), '{"room":"exam"');
    nc.publish(subjects.faces('exam', 'cam-9'), JSON.stringify({ ...recorded[0]!, room: 'other', stream: 'cam-9' }));
    nc.publish(subjects.faces('exam', 'cam-9'), JSON.stringify({ ...recorded[0]!, room: 'exam', stream: 'cam-9', faces: [{ ...recorded[0]!.faces[0]!, crop: { format: 'jpeg', width: 112, height: 112, data: 'AAAA' } }] }));
    const analyses = new Collector<AnalysisMessage>(nc, subjects.analysis('exam', 'cam-9'), (d) => decodeJson(analysisMessage, d));
    await analyses.until((a) => a.length === 1);
    nc.publish(subjects.faces('exam', 'cam-9'), JSON.stringify({ ...recorded[1]!, room: 'exam', stream: 'cam-9' }));
    await analyses.until((a) => a.some((m) => m.seq === recorded[1]!.seq));
    analyses.close();
    const bad = (await Promise.all(reids.map((r) => r.get('/metrics')))).map((m) => m.body);
    const total = (reason: string) => bad.reduce((s, b) => s + metricValue(b, 'lookout_bad_messages_total', { subject_kind: 'faces', reason }), 0);
    expect(total('invalid')).toBe(2);
    expect(total('bad_crop')).toBe(1);
    for (const r of reids) expect((await r.get('/readyz')).status).toBe(200);
  }, 60_000);
});

/** Every stored event of one stream (`<room>.<stream>`), read back from LOOKOUT_EVENTS. */
async function readEvents(nc: NatsConnection, roomStream: string) {
  const js = jetstream(nc);
  // nats-server 2.9 takes one filter that must sit inside one of the stream's subjects.
  const consumer = await js.consumers.get(EVENT_STREAM.name);
  const out = { alerts: [] as AlertEvent[], recognitions: [] as ReturnType<typeof recognitionEvent.parse>[], metrics: [] as StreamMetricsEvent[] };
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
    let n = 0;
    for await (const m of batch) {
      n++;
      const [kind, ...rest] = m.subject.split('.');
      if (rest.join('.') !== roomStream) continue;
      if (kind === 'alerts') out.alerts.push(decodeJson(alertEvent, m.data));
      else if (kind === 'recognitions') out.recognitions.push(decodeJson(recognitionEvent, m.data));
      else out.metrics.push(decodeJson(streamMetricsEvent, m.data));
    }
    if (n === 0) return out;
  }
}
