import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  alertEvent,
  analysisMessage,
  decodeJson,
  EVENT_STREAM,
  JOB_STREAM,
  jobRoom,
  kvBuckets,
  recognitionEvent,
  rpc,
  streamKey,
  streamMetricsEvent,
  subjects,
  type AlertEvent,
  type FacesMessage,
  type RecognitionEvent,
  type StreamMetricsEvent,
} from '@lookout/contracts';
import { call } from '@lookout/service-kit';
import { enrollVideoPeople, extractVideoFrames, metricValue, rawRpc, startNatsServer, startService, stopAllProcesses, VIDEO_FPS, type NatsServer, type RunningService } from '@lookout/testkit';

/**
 * reid's side of a recording job (docs/reid.md, "Recording-job frames"): the two-person
 * video sampled at 5 fps goes through the real detector (`detector.analyze_frame`) and
 * the real reid (`reid.analyze_frame`) as fast as replies come, with capture times a day in
 * the past (a live frame that old would be shed; a job frame never is).
 */
const SAMPLE_FPS = 5;
const STEP = VIDEO_FPS / SAMPLE_FPS;
const INTERVAL_MS = 1000 / SAMPLE_FPS;
/** The cut from one person to the other, in video time (frame 90 of 15 fps). */
const SWITCH_VIDEO_MS = 6000;
const JOB = 'job-1';
const ROOM = jobRoom(JOB);
/** Whole seconds, so a second of metrics holds the same frames in every feed. */
const VIDEO_BASE_MS = Math.floor((Date.now() - 86_400_000) / 1000) * 1000;

interface Stored {
  alerts: AlertEvent[];
  recognitions: RecognitionEvent[];
  metrics: StreamMetricsEvent[];
}

/** Every stored event of one room's stream `video`, read back from LOOKOUT_EVENTS. */
async function storedEvents(nc: NatsConnection, room: string): Promise<Stored> {
  const consumer = await jetstream(nc).consumers.get(EVENT_STREAM.name);
  const out: Stored = { alerts: [], recognitions: [], metrics: [] };
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
    let n = 0;
    for await (const m of batch) {
      n++;
      const [kind, ...rest] = m.subject.split('.');
      if (rest.join('.') !== `${room}.${JOB_STREAM}`) continue;
      if (kind === 'alerts') out.alerts.push(decodeJson(alertEvent, m.data));
      else if (kind === 'recognitions') out.recognitions.push(decodeJson(recognitionEvent, m.data));
      else out.metrics.push(decodeJson(streamMetricsEvent, m.data));
    }
    if (n === 0) return out;
  }
}

async function storedCount(nc: NatsConnection): Promise<number> {
  const info = await (await jetstreamManager(nc)).streams.info(EVENT_STREAM.name);
  return info.state.messages;
}

/** Episodes and seconds with times relative to the feed's base: what must not depend on how fast it was fed. */
function timeline(s: Stored, baseMs: number) {
  const alerts = s.alerts
    .map((a) => ({ id: a.id.replace(/^[^.]*\./, ''), kind: a.kind, state: a.state, startSeq: a.startSeq, startMs: a.startMs - baseMs, endMs: a.endMs === undefined ? null : a.endMs - baseMs, from: a.from, to: a.to }))
    .sort((a, b) => a.startSeq - b.startSeq || a.kind.localeCompare(b.kind) || a.state.localeCompare(b.state));
  const metrics = s.metrics
    .map(({ room: _r, sessionId: _s, latencyMs: _l, ...m }) => ({ ...m, second: m.second - baseMs / 1000 }))
    .sort((a, b) => a.second - b.second);
  return { alerts, metrics };
}

describe('reid.analyze_frame: a recording job\'s frames (real nats-server, detector, reid; the two-person video at 5 fps)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  let reid: RunningService;
  let frameDir: string;
  const faces: FacesMessage[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'reid-job-frames-test' });
    frameDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-job-frames-'));
    extractVideoFrames(frameDir);
    // reid keeps its default MAX_FRAME_AGE_MS: the job's frames are a day old.
    [detector, reid] = await Promise.all([startService('detector', nats.url), startService('reid', nats.url, { INSTANCE_ID: 'reid-job' })]);
    const sessions = await new Kvm(nc).open(kvBuckets.streamSessions);
    for (const room of [ROOM, 'live-twin']) await sessions.put(streamKey(room, JOB_STREAM), JSON.stringify({ sessionId: `sess-${room}`, startedMs: Date.now() }));
    await enrollVideoPeople(nc);
    const files = fs.readdirSync(frameDir).sort().filter((_f, i) => i % STEP === 0);
    for (const [i, f] of files.entries()) {
      const request = { job: JOB, room: ROOM, stream: JOB_STREAM, seq: i, captureMs: VIDEO_BASE_MS + i * INTERVAL_MS };
      faces.push(await call(nc, rpc.detector.analyzeFrame, request, { payload: fs.readFileSync(path.join(frameDir, f)) }));
    }
  }, 300_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([detector?.stop(), reid?.stop()]);
    await stopAllProcesses();
    await nats?.stop();
    if (frameDir) fs.rmSync(frameDir, { recursive: true, force: true });
  });

  it('commits every frame as fast as replies come, and stores identity_changed at 6 s of video time', async () => {
    expect(faces).toHaveLength(60);
    const outcomes: string[] = [];
    const t0 = performance.now();
    for (const m of faces) {
      const reply = await call(nc, rpc.reid.analyzeFrame, m);
      expect(reply.seq).toBe(m.seq);
      outcomes.push(reply.outcome);
    }
    const wallS = (performance.now() - t0) / 1000;
    console.log(`reid.analyze_frame: ${faces.length} frames (${(faces.length / SAMPLE_FPS).toFixed(1)} s of video) in ${wallS.toFixed(2)} s`);
    expect(outcomes.every((o) => o === 'committed')).toBe(true);

    // A reply means stored: the events are read back at once, without waiting.
    const stored = await storedEvents(nc, ROOM);
    const opened = stored.alerts.filter((a) => a.kind === 'identity_changed' && a.state === 'open');
    expect(opened).toHaveLength(1);
    const videoMs = opened[0]!.startMs - VIDEO_BASE_MS;
    console.log(`identity_changed opens at ${videoMs} ms of video time (frame ${opened[0]!.startSeq}; the cut is at ${SWITCH_VIDEO_MS} ms)`);
    expect(Math.abs(videoMs - SWITCH_VIDEO_MS)).toBeLessThanOrEqual(400);
    expect(opened[0]).toMatchObject({ sessionId: `sess-${ROOM}`, from: { subjectId: 'obama' }, to: { subjectId: 'jolie' } });
    expect(stored.recognitions.map((r) => `${r.decision}:${r.subjectId}`).sort()).toEqual(['PASS:jolie', 'PASS:obama']);
    // Seconds of video time, without a capture-to-analysis latency (a recording's is meaningless).
    expect(stored.metrics.length).toBeGreaterThanOrEqual(11);
    expect(stored.metrics.every((m) => m.latencyMs === null && m.sessionId === `sess-${ROOM}`)).toBe(true);
    expect(stored.metrics.map((m) => m.second * 1000 - VIDEO_BASE_MS)).toEqual(stored.metrics.map((_m, i) => i * 1000));

    const metrics = (await reid.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_reid_job_frames_total', { outcome: 'committed' })).toBe(60);
    expect(metricValue(metrics, 'lookout_reid_frames_dropped_total', { reason: 'stale' })).toBe(0);
  }, 120_000);

  it('a frame sent again (a retry) is late and stores nothing', async () => {
    const before = await storedCount(nc);
    const analyses: unknown[] = [];
    const sub: Subscription = nc.subscribe(subjects.analysis(ROOM, JOB_STREAM), { callback: (_e, m) => void analyses.push(decodeJson(analysisMessage, m.data)) });
    expect(await call(nc, rpc.reid.analyzeFrame, faces[10]!)).toEqual({ seq: 10, outcome: 'late' });
    expect(await storedCount(nc)).toBe(before);
    await nc.flush();
    sub.unsubscribe();
    // Its analysis is still published (its own gallery matches, no tracks): the state did not move.
    expect(analyses).toHaveLength(1);
    expect(analyses[0]).not.toHaveProperty('principal');
  }, 60_000);

  it('a malformed request is answered invalid_request and counted; the stream is untouched', async () => {
    const before = await storedCount(nc);
    const bad = await rawRpc(nc, subjects.reidAnalyzeFrame(), { ...faces[11]!, seq: -1 }, 10_000);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await rawRpc(nc, subjects.reidAnalyzeFrame(), '{"room":', 10_000)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await storedCount(nc)).toBe(before);
    const metrics = (await reid.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_bad_messages_total', { subject_kind: 'reid.analyze_frame', reason: 'invalid' })).toBe(2);
    expect((await reid.get('/readyz')).status).toBe(200);
  }, 60_000);

  it('end_stream closes the open episodes at the last frame and flushes the last second: every frame is counted', async () => {
    const { closedEpisodes } = await call(nc, rpc.reid.endStream, { room: ROOM, stream: JOB_STREAM, reason: 'recording analysed' });
    expect(closedEpisodes).toBeGreaterThanOrEqual(1);
    const stored = await storedEvents(nc, ROOM);
    const lastMs = VIDEO_BASE_MS + (faces.length - 1) * INTERVAL_MS;
    const open = new Set(stored.alerts.filter((a) => a.state === 'open').map((a) => a.id));
    const closed = stored.alerts.filter((a) => a.state === 'closed');
    expect(new Set(closed.map((a) => a.id))).toEqual(open);
    expect(closed.every((a) => a.endMs !== undefined && a.endMs <= lastMs)).toBe(true);
    expect(closed.filter((a) => a.message.includes('recording analysed'))).toHaveLength(closedEpisodes);
    expect(stored.metrics.reduce((n, m) => n + m.frames, 0)).toBe(faces.length);
    expect(await call(nc, rpc.reid.endStream, { room: ROOM, stream: JOB_STREAM })).toEqual({ closedEpisodes: 0 });
    expect(await call(nc, rpc.reid.analyzeFrame, faces.at(-1)!)).toEqual({ seq: faces.length - 1, outcome: 'late' });
  }, 60_000);

  it('the same faces fed live at 1× (a frame every 200 ms) give the same episodes and seconds as the job fed at full speed', async () => {
    const room = 'live-twin';
    // Capture times on a whole second, as the job's, so a second holds the same frames.
    const liveBase = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const analysed: number[] = [];
    let wake: () => void = () => undefined;
    const sub = nc.subscribe(subjects.analysis(room, JOB_STREAM), {
      callback: (_e, m) => {
        analysed.push(decodeJson(analysisMessage, m.data).seq);
        wake();
      },
    });
    const feed = async (m: FacesMessage, times: number) => {
      const seen = () => analysed.filter((s) => s === m.seq).length >= times;
      nc.publish(subjects.faces(room, JOB_STREAM), JSON.stringify({ ...m, room, captureMs: liveBase + m.seq * INTERVAL_MS }));
      while (!seen()) await new Promise<void>((resolve) => (wake = resolve));
    };
    for (const m of faces) {
      // Real time is the point here: each frame goes out when a camera would have captured it.
      const due = liveBase + m.seq * INTERVAL_MS - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      await feed(m, 1);
    }
    // A live frame's events go out after its analysis; the stream's next message is taken
    // only once they are stored, so the last frame sent again (late) says they are.
    await feed(faces.at(-1)!, 2);
    sub.unsubscribe();
    await call(nc, rpc.reid.endStream, { room, stream: JOB_STREAM, reason: 'recording analysed' });
    const live = timeline(await storedEvents(nc, room), liveBase);
    const job = timeline(await storedEvents(nc, ROOM), VIDEO_BASE_MS);
    expect(live.alerts.length).toBeGreaterThan(0);
    expect(live).toEqual(job);
  }, 120_000);
});
