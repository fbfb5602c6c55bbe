import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { analysisMessage, decodeJson, kvBuckets, streamKey, subjects, type SessionInfo, type SessionReport } from '@lookout/contracts';
import {
  apiCall,
  FramePublisher,
  ROOT,
  roomToken,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';
import { enrollVideoPeople, extractVideoFrames, galleryCall, SWITCH_FRAME, VIDEO_FPS } from '@lookout/testkit';

const ROOM = 'exam';
type ErrorBody = { error: { code: string; message: string; field?: string } };
const STREAM = 'cam-1';

describe('gateway sessions and reports (real nats-server, detector, reid, gateway; the two-person video frame by frame)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  let reid: RunningService;
  let gateway: RunningService;
  let base: string;
  let frameDir: string;
  let session: SessionInfo;
  /** Capture time of the video's first frame. */
  let videoT0 = 0;
  const publisher = roomToken(ROOM, 'publisher');
  const viewer = roomToken(ROOM, 'viewer');
  const otherViewer = roomToken('other-room', 'viewer');

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'gateway-sessions-test' });
    frameDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-frames-'));
    extractVideoFrames(frameDir);
    // Frames carry the video's capture times, not the wall clock: neither detector nor reid may drop them as stale.
    [detector, reid, gateway] = await Promise.all([
      startService('detector', nats.url, { MAX_FRAME_AGE_MS: '3600000' }),
      startService('reid', nats.url, { MAX_FRAME_AGE_MS: '3600000' }),
      startService('gateway', nats.url, TEST_GATEWAY_ENV),
    ]);
    base = `http://127.0.0.1:${gateway.httpPort}`;
    // Other photos of the two people than the video's frames.
    await enrollVideoPeople(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([detector?.stop(), reid?.stop(), gateway?.stop()]);
    await stopAllProcesses();
    await nats?.stop();
    if (frameDir) fs.rmSync(frameDir, { recursive: true, force: true });
  });

  it('starts a session: publisher of the room or admin only; one running session per stream', async () => {
    const body = { room: ROOM, stream: STREAM, expectedSubjectId: 'obama', metadata: { candidate: 'B. Obama', exam: 'math-101' } };
    expect((await apiCall(base, 'POST', '/sessions', { json: body, auth: null })).status).toBe(401);
    expect((await apiCall(base, 'POST', '/sessions', { json: body, auth: viewer })).status).toBe(403);
    expect((await apiCall(base, 'POST', '/sessions', { json: { ...body, room: 'other-room' }, auth: publisher })).status).toBe(403);
    expect(await apiCall(base, 'POST', '/sessions', { json: { ...body, stream: 'a.b' } })).toMatchObject({ status: 400, body: { error: { field: 'stream' } } });
    expect(await apiCall(base, 'POST', '/sessions', { json: { ...body, expectedSubjectId: 'nobody' } })).toMatchObject({ status: 422, body: { error: { code: 'unknown_subject', field: 'expectedSubjectId' } } });

    // The proctoring case: an admin sets up the monitoring of the person holding the publisher token.
    const started = await apiCall<SessionInfo>(base, 'POST', '/sessions', { json: body });
    expect(started.status).toBe(201);
    session = started.body;
    expect(session).toMatchObject({ room: ROOM, stream: STREAM, expectedSubjectId: 'obama', status: 'running', metadata: body.metadata, sessionId: expect.any(String), startedBy: { role: 'admin' } });
    expect(await apiCall(base, 'POST', '/sessions', { json: body })).toMatchObject({ status: 409, body: { error: { code: 'session_running', field: 'stream' } } });

    // reid reads the stream's session from KV.
    const kv = await new Kvm(nc).open(kvBuckets.streamSessions);
    expect((await kv.get(streamKey(ROOM, STREAM)))?.json()).toMatchObject({ sessionId: session.sessionId, expectedSubjectId: 'obama' });

    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}`, { auth: viewer })).body).toEqual(session);
    // The person watched reads the session, but not which gallery subject is expected (another candidate's id).
    const { expectedSubjectId: _expected, ...withoutSubject } = session;
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}`, { auth: publisher })).body).toEqual(withoutSubject);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}`, { auth: null })).status).toBe(401);
    expect((await apiCall(base, 'GET', '/sessions/nope')).status).toBe(404);
    expect((await apiCall(base, 'GET', '/sessions', { auth: viewer })).status).toBe(403);
  });

  it('issue 17: a publisher cannot start a session with rules of its own, nor probe the gallery with expectedSubjectId', async () => {
    const off = { enabled: false };
    const rules = { identity_changed: off, multiple_faces: off, looking_away: off, spoof_suspected: off, unknown_person: off };
    const disabled = await apiCall<ErrorBody>(base, 'POST', '/sessions', { json: { room: ROOM, stream: 'cam-2', rules }, auth: publisher });
    expect(disabled).toMatchObject({ status: 403, body: { error: { code: 'forbidden', field: 'rules' } } });
    // Before: 201 for an enrolled id and 422 unknown_subject for another. Now one answer for both.
    const known = await apiCall<ErrorBody>(base, 'POST', '/sessions', { json: { room: ROOM, stream: 'cam-2', expectedSubjectId: 'obama' }, auth: publisher });
    const unknown = await apiCall<ErrorBody>(base, 'POST', '/sessions', { json: { room: ROOM, stream: 'cam-2', expectedSubjectId: 'nobody' }, auth: publisher });
    expect(known).toMatchObject({ status: 403, body: { error: { code: 'forbidden', field: 'expectedSubjectId' } } });
    expect({ status: unknown.status, body: unknown.body }).toEqual({ status: known.status, body: known.body });
    // Nothing was started by any of them.
    expect((await apiCall<{ sessions: SessionInfo[] }>(base, 'GET', `/sessions?room=${ROOM}`)).body.sessions.map((s) => s.stream)).toEqual([STREAM]);
  });

  it('issue 17: a session a caller may not see answers exactly as one that does not exist (404, not 403)', async () => {
    const id = session.sessionId;
    const notFound = (sid: string) => ({ status: 404, body: { error: { code: 'not_found', message: `session: no session ${sid}`, field: 'session' } } });
    const ghost = `${id.slice(0, -3)}zzz`;
    for (const auth of [otherViewer, roomToken('other-room', 'publisher')]) {
      for (const [method, suffix] of [['GET', ''], ['GET', '/live'], ['GET', '/report'], ['GET', '/report.html'], ['POST', '/end']] as const) {
        for (const sid of [id, ghost]) {
          const r = await apiCall<ErrorBody>(base, method, `/sessions/${sid}${suffix}`, { auth });
          expect({ path: `${method} ${suffix}`, status: r.status, body: r.body }).toEqual({ path: `${method} ${suffix}`, ...notFound(sid) });
        }
      }
    }
    expect(await apiCall(base, 'GET', `/sessions/${ghost}`)).toMatchObject(notFound(ghost));
  });

  it('feeds the video through the pipeline; the live summary grows; the report waits for the end', async () => {
    const analysed = new Map<number, string | undefined>();
    const waiters = new Map<number, () => void>();
    const sub = nc.subscribe(subjects.analysis(ROOM, STREAM), {
      callback: (_e, m) => {
        const a = decodeJson(analysisMessage, m.data);
        analysed.set(a.seq, a.sessionId);
        waiters.get(a.seq)?.();
      },
    });
    const frames = new FramePublisher(nc);
    const files = fs.readdirSync(frameDir).sort();
    const t0 = Date.now() - 60_000;
    videoT0 = t0;
    for (const [i, f] of files.entries()) {
      const done = new Promise<void>((resolve) => waiters.set(i, resolve));
      frames.publish(ROOM, STREAM, fs.readFileSync(path.join(frameDir, f)), { seq: i, captureMs: t0 + Math.round((i * 1000) / VIDEO_FPS) });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error(`no analysis for frame ${i}`)), 30_000)))]);
      clearTimeout(timer);
    }
    sub.unsubscribe();
    expect([...analysed.values()].every((id) => id === session.sessionId)).toBe(true);

    const live = await apiCall<SessionReport>(base, 'GET', `/sessions/${session.sessionId}/live`, { auth: viewer });
    expect(live.status).toBe(200);
    expect(live.body.session.status).toBe('running');
    expect(live.body.framesAnalysed).toBeGreaterThan(0);
    expect(live.body.alerts.some((a) => a.kind === 'identity_changed' && a.endMs === null)).toBe(true);
    expect(await apiCall(base, 'GET', `/sessions/${session.sessionId}/report`)).toMatchObject({ status: 409, body: { error: { code: 'session_running' } } });
  }, 180_000);

  it('ends the session: reid closes its episodes, the stream is free again; the publisher watched cannot end it', async () => {
    expect((await apiCall(base, 'POST', `/sessions/${session.sessionId}/end`, { auth: viewer })).status).toBe(403);
    // issue 17: before, the person watched could switch off the monitoring an admin set up (200).
    expect(await apiCall<ErrorBody>(base, 'POST', `/sessions/${session.sessionId}/end`, { auth: publisher })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/live`, { auth: publisher })).status).toBe(403);
    expect((await apiCall<SessionInfo>(base, 'GET', `/sessions/${session.sessionId}`)).body.status).toBe('running');
    const ended = await apiCall<SessionInfo>(base, 'POST', `/sessions/${session.sessionId}/end`);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ status: 'ended', endedMs: expect.any(Number), streamEnd: { ok: true } });
    expect(ended.body.streamEnd?.closedEpisodes).toBeGreaterThanOrEqual(1);
    // Ending twice returns the same record.
    expect((await apiCall(base, 'POST', `/sessions/${session.sessionId}/end`)).body).toEqual(ended.body);
    const kv = await new Kvm(nc).open(kvBuckets.streamSessions);
    expect((await kv.get(streamKey(ROOM, STREAM)))?.operation).not.toBe('PUT');
    session = ended.body;
  });

  it('a publisher starts a session of its own on the room config, and only its own peer ends it', async () => {
    const own = await apiCall<SessionInfo>(base, 'POST', '/sessions', { json: { room: 'practice', stream: 'cam', metadata: { note: 'self check' } }, auth: roomToken('practice', 'publisher', { peer: 'alice' }) });
    expect(own).toMatchObject({ status: 201, body: { room: 'practice', startedBy: { role: 'publisher', peer: 'alice' } } });
    expect(own.body.rules).toBeUndefined();
    const id = own.body.sessionId;
    expect((await apiCall(base, 'POST', `/sessions/${id}/end`, { auth: roomToken('practice', 'publisher', { peer: 'bob' }) })).status).toBe(403);
    expect((await apiCall(base, 'POST', `/sessions/${id}/end`, { auth: roomToken('practice', 'viewer', { peer: 'alice' }) })).status).toBe(403);
    expect((await apiCall(base, 'GET', `/sessions/${id}/live`, { auth: roomToken('practice', 'publisher', { peer: 'alice' }) })).status).toBe(200);
    const ended = await apiCall<SessionInfo>(base, 'POST', `/sessions/${id}/end`, { auth: roomToken('practice', 'publisher', { peer: 'alice' }) });
    expect(ended).toMatchObject({ status: 200, body: { status: 'ended' } });
  });

  it('the report lists the identity change from obama to jolie, with timelines, not verified', async () => {
    const res = await apiCall<SessionReport>(base, 'GET', `/sessions/${session.sessionId}/report`, { auth: viewer });
    expect(res.status).toBe(200);
    const r = res.body;
    console.log(
      `report: ${r.framesAnalysed} frames, ${r.timelines.engagement.length} s, engagement ${JSON.stringify(r.scores.engagement)}, alerts ${r.alerts.map((a) => `${a.kind}[${a.endMs === null ? 'open' : 'closed'}]`).join(', ')}, recognized ${r.identity.recognized.map((g) => `${g.decision}:${g.subjectId}`).join(', ')}`,
    );
    expect(r.session).toEqual(session);
    expect(r.framesAnalysed).toBeGreaterThanOrEqual(150);
    const changes = r.alerts.filter((a) => a.kind === 'identity_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ severity: 'critical', from: { subjectId: 'obama', name: 'Barack Obama' }, to: { subjectId: 'jolie', name: 'Angelina Jolie' }, endMs: expect.any(Number) });
    expect(r.alerts.every((a) => a.endMs !== null)).toBe(true);
    expect(r.timelines.engagement.filter(([, v]) => v !== null).length).toBeGreaterThanOrEqual(8);
    expect(r.timelines.eyeContact.filter(([, v]) => v !== null).length).toBeGreaterThanOrEqual(8);
    expect(r.timelines.expression.length).toBeGreaterThanOrEqual(8);
    expect(r.scores.engagement).toMatchObject({ mean: expect.any(Number) });
    expect(r.identity).toMatchObject({ expectedSubjectId: 'obama', changes: 1, verified: false });
    expect(r.identity.recognized.map((g) => `${g.decision}:${g.subjectId}`).sort()).toEqual(['PASS:jolie', 'PASS:obama']);
  });

  it('serves the printable page with the charts and the episode; access as for the session', async () => {
    const page = await apiCall(base, 'GET', `/sessions/${session.sessionId}/report.html?token=${viewer}`, { auth: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text.match(/<svg /g)?.length).toBe(3);
    expect(page.text).toContain('<polyline');
    expect(page.text).toContain('identity_changed');
    expect(page.text).toContain('Barack Obama → Angelina Jolie');
    expect(page.text).not.toMatch(/<script/i);
    // Kept for a look (ignored by git).
    fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-artifacts', 'session-report.html'), page.text);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/report.html`, { auth: otherViewer })).status).toBe(404);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/report.html`, { auth: null })).status).toBe(401);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/report`, { auth: otherViewer })).status).toBe(404);
    // The reports of an admin's session are not the watched publisher's to read.
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/report`, { auth: publisher })).status).toBe(403);
  });

  it('issue 16: attendance lists Obama then Jolie with first/last seen and time in view, in JSON, HTML and CSV', async () => {
    const r = (await apiCall<SessionReport>(base, 'GET', `/sessions/${session.sessionId}/report`, { auth: viewer })).body;
    const at = (ms: number) => (ms - videoT0) / 1000;
    console.log(`attendance: ${r.attendance.people.map((p) => `${p.subjectId} ${at(p.firstSeenMs)}–${at(p.lastSeenMs)} s (${p.secondsInView} s, ${p.tracks} tracks)`).join(', ')}; unknown tracks ${r.attendance.unknown.tracks}`);
    expect(r.attendance.people.map((p) => [p.subjectId, p.name])).toEqual([
      ['obama', 'Barack Obama'],
      ['jolie', 'Angelina Jolie'],
    ]);
    const [obama, jolie] = r.attendance.people;
    const switchS = SWITCH_FRAME / VIDEO_FPS;
    // Per-second resolution on a capture clock that does not start on a whole second: ±1 s, and a second or two to identify.
    expect(at(obama!.firstSeenMs)).toBeGreaterThanOrEqual(-1);
    expect(at(obama!.firstSeenMs)).toBeLessThanOrEqual(1);
    expect(Math.abs(at(obama!.lastSeenMs) - switchS)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(at(jolie!.firstSeenMs) - switchS)).toBeLessThanOrEqual(1.5);
    expect(at(jolie!.lastSeenMs)).toBeGreaterThanOrEqual(switchS + 4);
    expect(at(jolie!.lastSeenMs)).toBeLessThanOrEqual(switchS * 2 + 1.5);
    for (const p of [obama!, jolie!]) expect(p.secondsInView).toBeGreaterThanOrEqual(switchS - 2);

    const page = await apiCall(base, 'GET', `/sessions/${session.sessionId}/report.html?token=${viewer}`, { auth: null });
    expect(page.text).toContain('<h2>Attendance</h2>');
    expect(page.text).toMatch(/<td>Barack Obama<\/td><td>obama<\/td>/);

    const csv = await apiCall(base, 'GET', `/sessions/${session.sessionId}/attendance.csv?token=${viewer}`, { auth: null });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="attendance-${session.sessionId}.csv"`);
    const rows = csv.text.trimEnd().split('\r\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['kind', 'subject_id', 'name', 'track', 'first_seen', 'last_seen', 'first_seen_s', 'last_seen_s', 'seconds_in_view', 'tracks']);
    expect(rows.filter((row) => row[0] === 'person').map((row) => [row[1], row[2], row[4], row[8]])).toEqual(
      r.attendance.people.map((p) => [p.subjectId, p.name, new Date(p.firstSeenMs).toISOString(), String(p.secondsInView)]),
    );
    // Same access as the report: another room's token finds nothing, the watched publisher may not read it, and a link needs a token.
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/attendance.csv`, { auth: otherViewer })).status).toBe(404);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/attendance.csv`, { auth: publisher })).status).toBe(403);
    expect((await apiCall(base, 'GET', `/sessions/${session.sessionId}/attendance.csv`, { auth: null })).status).toBe(401);
  });

  it('issue 16: an unknown person counts as one track, not as frames; a hostile name is escaped in the CSV', async () => {
    const photo = (person: string, file: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/faces/identities', person, file));
    const hostile = `=cmd|' /C calc'!A0, "Boss"`;
    const enrolled = await galleryCall(nc, 'enroll', { subjectId: 'clooney', name: hostile, images: ['df_img38.jpg', 'df_img39.jpg', 'df_img41.jpg'].map((f) => photo('george_clooney', f).toString('base64')) });
    expect(enrolled.ok).toBe(true);
    const stream = 'door-1';
    const started = await apiCall<SessionInfo>(base, 'POST', '/sessions', { json: { room: ROOM, stream } });
    expect(started.status).toBe(201);
    const analysed = new Set<number>();
    const sub = nc.subscribe(subjects.analysis(ROOM, stream), { callback: (_e, m) => void analysed.add(decodeJson(analysisMessage, m.data).seq) });
    const frames = new FramePublisher(nc);
    // 3 s of the enrolled person, then 3 s of someone not in the gallery (a still photo: one track each).
    const jpegs = [...Array<Buffer>(45).fill(photo('george_clooney', 'df_img40.jpg')), ...Array<Buffer>(45).fill(photo('joe_biden', 'fr_biden.jpg'))];
    const t0 = Date.now() - 30_000;
    for (const [i, jpeg] of jpegs.entries()) {
      frames.publish(ROOM, stream, jpeg, { seq: i, captureMs: t0 + Math.round((i * 1000) / VIDEO_FPS) });
      const deadline = Date.now() + 30_000;
      while (!analysed.has(i)) {
        if (Date.now() > deadline) throw new Error(`no analysis for frame ${i}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    }
    sub.unsubscribe();
    await apiCall(base, 'POST', `/sessions/${started.body.sessionId}/end`);
    const r = (await apiCall<SessionReport>(base, 'GET', `/sessions/${started.body.sessionId}/report`)).body;
    console.log(`attendance: ${JSON.stringify(r.attendance)}`);
    expect(r.framesAnalysed).toBe(90);
    expect(r.attendance.people).toMatchObject([{ subjectId: 'clooney', name: hostile, tracks: 1 }]);
    expect(r.attendance.unknown.tracks).toBe(1);
    expect(r.attendance.unknown.secondsInView).toBeGreaterThanOrEqual(2);
    const csv = await apiCall(base, 'GET', `/sessions/${started.body.sessionId}/attendance.csv`);
    expect(csv.text).toContain(`person,clooney,"'=cmd|' /C calc'!A0, ""Boss""",`);
    expect(csv.text.split('\r\n').filter((l) => l.startsWith('unknown,'))).toHaveLength(1);
  }, 120_000);

  it('lists sessions newest first; a new session may start on the freed stream; reid being down does not block an end', async () => {
    const next = await apiCall<SessionInfo>(base, 'POST', '/sessions', { json: { room: ROOM, stream: STREAM } });
    expect(next.status).toBe(201);
    const list = await apiCall<{ sessions: SessionInfo[] }>(base, 'GET', `/sessions?room=${ROOM}`);
    expect(list.body.sessions.filter((s) => s.stream === STREAM).map((s) => s.sessionId)).toEqual([next.body.sessionId, session.sessionId]);
    expect((await apiCall<{ sessions: SessionInfo[] }>(base, 'GET', '/sessions?room=nobody')).body.sessions).toEqual([]);
    expect((await apiCall<{ sessions: SessionInfo[] }>(base, 'GET', '/sessions?status=running')).body.sessions.map((s) => s.sessionId)).toEqual([next.body.sessionId]);

    await reid.stop();
    const ended = await apiCall<SessionInfo>(base, 'POST', `/sessions/${next.body.sessionId}/end`);
    expect(ended.body).toMatchObject({ status: 'ended', streamEnd: { ok: false, error: expect.stringMatching(/reid/) } });
    const empty = await apiCall<SessionReport>(base, 'GET', `/sessions/${next.body.sessionId}/report`);
    expect(empty.body).toMatchObject({ framesAnalysed: 0, alerts: [], identity: { verified: null } });
  }, 60_000);
});
