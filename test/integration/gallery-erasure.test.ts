import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { alertEvent, analysisMessage, decodeJson, kvBuckets, recognitionEvent, subjects, type AlertEvent, type AnalysisMessage, type EnrollJob, type RecognitionEvent, type SessionInfo } from '@lookout/contracts';
import {
  FIXTURES,
  FramePublisher,
  SWITCH_FRAME,
  TEST_GATEWAY_ENV,
  VIDEO_FPS,
  apiCall,
  buildZip,
  extractVideoFrames,
  startNatsServer,
  startService,
  stopAllProcesses,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

/**
 * Issue 17, finding 6: a gallery delete is an erasure. A subject is enrolled, renamed and
 * given more images, recognised on a live stream (recognition events, an identity_changed
 * alert naming it, the stream state), expected by two sessions (one ended, one running)
 * and named by a ZIP enrollment job, then deleted through the REST API; afterwards no
 * file under the NATS store directory, and no line the services logged, holds its id, its
 * name, its metadata, or any piece of its stored embedding.
 */

const ID = 'zq_erasure_obama';
const NAME = 'Barack Zqerase Obama';
const META = 'zq-meta-7731';
const FACES = path.join(FIXTURES, 'faces', 'identities');
const photo = (person: string, file: string) => fs.readFileSync(path.join(FACES, person, file));

function form(fields: Record<string, string>, files: Array<{ name: string; data: Buffer }>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const file of files) f.append('images', new Blob([new Uint8Array(file.data)], { type: 'image/jpeg' }), file.name);
  return f;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

/** `needle label → files holding it` for every needle found anywhere under `dir`. */
function grepDir(dir: string, needles: Record<string, Buffer>): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const file of filesUnder(dir)) {
    const data = fs.readFileSync(file);
    for (const [label, needle] of Object.entries(needles)) {
      if (data.includes(needle)) (found[label] ??= []).push(path.relative(dir, file));
    }
  }
  return found;
}

function grepLines(lines: readonly string[], needles: Record<string, Buffer>): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const line of lines) {
    for (const [label, needle] of Object.entries(needles)) if (Buffer.from(line).includes(needle)) (found[label] ??= []).push(line.slice(0, 300));
  }
  return found;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

class Collector<T> {
  readonly items: T[] = [];
  private readonly sub: Subscription;
  constructor(nc: NatsConnection, subject: string, decode: (d: Uint8Array) => T) {
    this.sub = nc.subscribe(subject, { callback: (_e, m) => void this.items.push(decode(m.data)) });
  }
  close(): void {
    this.sub.unsubscribe();
  }
}

describe('a gallery delete erases the subject from the NATS store and the logs (real nats-server with its own store, detector, reid, gateway)', () => {
  let storeDir: string;
  let frameDir: string;
  let nats: NatsServer | undefined;
  let nc: NatsConnection;
  let services: RunningService[] = [];
  let base: string;
  const call = <T>(method: string, p: string, opts: Parameters<typeof apiCall>[3] = {}) => apiCall<T>(base, method, p, opts);

  beforeAll(async () => {
    storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-erasure-store-'));
    frameDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-erasure-frames-'));
    extractVideoFrames(frameDir);
    nats = await startNatsServer([], { storeDir });
    nc = await connect({ servers: nats.url, name: 'erasure-test' });
    services = await Promise.all([startService('detector', nats.url, { MAX_FRAME_AGE_MS: '3600000' }), startService('reid', nats.url, { MAX_FRAME_AGE_MS: '3600000', ERASE_GRACE_MS: '1000' })]);
    const gateway = await startService('gateway', nats.url, TEST_GATEWAY_ENV);
    services.push(gateway);
    base = `http://127.0.0.1:${gateway.httpPort}`;
  }, 180_000);

  afterAll(async () => {
    if (nc && !nc.isClosed()) await nc.close();
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
    for (const d of [storeDir, frameDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('enrolment refuses a face that is already another subject\'s, naming that subject (finding 7)', async () => {
    const jolie = await call('POST', '/gallery/subjects', { body: form({ name: 'Angelina Jolie', subjectId: 'jolie' }, [{ name: 'j1.jpg', data: photo('angelina_jolie', 'df_img1.jpg') }, { name: 'j2.jpg', data: photo('angelina_jolie', 'df_img2.jpg') }]) });
    expect(jolie.status).toBe(201);
    // Another photo of her, as a new subject: refused, nothing created.
    const again = await call<{ error: { code: string; message: string; subjectId?: string } }>('POST', '/gallery/subjects', { body: form({ name: 'A. Jolie', subjectId: 'jolie_2' }, [{ name: 'j.jpg', data: photo('angelina_jolie', 'df_img4.jpg') }]) });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'face_enrolled', subjectId: 'jolie', message: expect.stringContaining('jolie') });
    expect((await call('GET', '/gallery/subjects/jolie_2')).status).toBe(404);
    // Her photo added to someone else is refused too; her own subject takes it.
    const obama = await call('POST', '/gallery/subjects', { body: form({ name: 'Obama (dup test)', subjectId: 'dup_obama' }, [{ name: 'o.jpg', data: photo('barack_obama', 'fr_obama3.jpg') }]) });
    expect(obama.status).toBe(201);
    expect(await call('POST', '/gallery/subjects/dup_obama/images', { body: form({}, [{ name: 'j.jpg', data: photo('angelina_jolie', 'df_img5.jpg') }]) })).toMatchObject({ status: 409, body: { error: { code: 'face_enrolled', subjectId: 'jolie' } } });
    expect(await call('POST', '/gallery/subjects/jolie/images', { body: form({}, [{ name: 'j.jpg', data: photo('angelina_jolie', 'df_img5.jpg') }]) })).toMatchObject({ status: 200 });
    expect((await call('DELETE', '/gallery/subjects/dup_obama')).status).toBe(200);
  }, 120_000);

  it('after a subject recognised on a live stream is deleted, no byte of its id, name, metadata or embedding is left', async () => {
    const enrolled = await call('POST', '/gallery/subjects', { body: form({ name: 'Barack Obama (first name)', subjectId: ID, metadata: JSON.stringify({ badge: META }) }, [{ name: 'o1.jpg', data: photo('barack_obama', 'fr_obama.jpg') }]) });
    expect(enrolled.status).toBe(201);
    // More revisions of the record: each replaced one must be erased too.
    expect((await call('POST', `/gallery/subjects/${ID}/images`, { body: form({}, [{ name: 'o2.jpg', data: photo('barack_obama', 'fr_obama2.jpg') }]) })).status).toBe(200);
    expect((await call('PATCH', `/gallery/subjects/${ID}`, { json: { name: NAME } })).status).toBe(200);

    const kv = await new Kvm(nc).open(kvBuckets.gallery);
    const record = (await kv.get(ID))!.json<{ embeddings: Array<{ vector: string }> }>();
    const vectors = record.embeddings.map((e) => e.vector);
    expect(vectors).toHaveLength(2);
    const needles: Record<string, Buffer> = { id: Buffer.from(ID), name: Buffer.from(NAME), firstName: Buffer.from('Barack Obama (first name)'), metadata: Buffer.from(META) };
    vectors.forEach((v, i) => {
      // A run of the base64 as stored (aligned to 4 characters, so it encodes the same floats anywhere) and the raw floats.
      needles[`embedding${i}Base64`] = Buffer.from(v.slice(400, 448));
      needles[`embedding${i}Raw`] = Buffer.from(v, 'base64').subarray(300, 332);
    });

    // Live: the video's first person is the subject, the second is Jolie (an identity_changed from the subject).
    const room = 'exam';
    const stream = 'cam';
    const analyses = new Collector<AnalysisMessage>(nc, subjects.analysis(room, stream), (d) => decodeJson(analysisMessage, d));
    const alerts = new Collector<AlertEvent>(nc, subjects.alerts(room, stream), (d) => decodeJson(alertEvent, d));
    const recognitions = new Collector<RecognitionEvent>(nc, subjects.recognitions(room, stream), (d) => decodeJson(recognitionEvent, d));
    const frames = new FramePublisher(nc);
    const files = fs.readdirSync(frameDir).sort().slice(0, SWITCH_FRAME + 45);
    const t0 = Date.now() - 60_000;
    for (const [i, f] of files.entries()) {
      frames.publish(room, stream, fs.readFileSync(path.join(frameDir, f)), { seq: i, captureMs: t0 + Math.round((i * 1000) / VIDEO_FPS) });
      await until(() => analyses.items.some((m) => m.seq === i), `analysis of frame ${i}`);
    }
    expect(analyses.items.filter((a) => a.faces[0]?.identity?.subjectId === ID).length).toBeGreaterThan(SWITCH_FRAME / 2);
    await until(() => recognitions.items.some((r) => r.subjectId === ID), 'a recognition of the subject');
    await until(() => alerts.items.some((a) => a.kind === 'identity_changed' && a.from?.subjectId === ID), 'identity_changed from the subject');

    // The gateway's stores name it too: sessions expecting it (one ended, one running) and a
    // ZIP job with an entry of its name (refused: the face is already the subject's).
    const ended = await call<SessionInfo>('POST', '/sessions', { json: { room, stream: 'cam2', expectedSubjectId: ID } });
    expect(ended.status).toBe(201);
    expect((await call('POST', `/sessions/${ended.body.sessionId}/end`)).status).toBe(200);
    const running = await call<SessionInfo>('POST', '/sessions', { json: { room, stream: 'cam3', expectedSubjectId: ID } });
    expect(running.status).toBe(201);
    const zipForm = new FormData();
    zipForm.append('zip', new Blob([new Uint8Array(buildZip([{ name: `${NAME}.jpg`, data: photo('barack_obama', 'fr_obama3.jpg') }]))], { type: 'application/zip' }), 'people.zip');
    const submitted = await call<EnrollJob>('POST', '/gallery/jobs', { body: zipForm });
    expect(submitted.status).toBe(202);
    let job: EnrollJob | undefined;
    await until(async () => (job = (await call<EnrollJob>('GET', `/gallery/jobs/${submitted.body.jobId}`)).body).status !== 'running', 'the enrollment job', 90_000);
    expect(job).toMatchObject({ status: 'done', results: [{ entry: `${NAME}.jpg`, ok: false }] });

    // The probe works: before the delete the store holds all of it (the events stream names the subject).
    await until(() => {
      const found = grepDir(storeDir, needles);
      // (Raw floats are never stored as such, and the first name's revision was erased when it was replaced.)
      const stored = Object.keys(needles).filter((k) => k !== 'firstName' && !k.endsWith('Raw'));
      const named = (k: string, store: string) => (found[k] ?? []).some((f) => f.includes(store));
      return stored.every((k) => found[k]) && named('name', 'LOOKOUT_EVENTS') && named('id', 'lookout_sessions') && named('id', 'lookout_stream_sessions') && named('name', 'lookout_enroll_jobs');
    }, 'the subject in the store before the delete', 15_000).catch(() => {
      throw new Error(`before the delete: ${JSON.stringify(grepDir(storeDir, needles))}`);
    });
    // The stream state never held it (refs only), even before the delete.
    const state = grepDir(path.join(storeDir, 'jetstream'), { id: needles.id!, name: needles.name! });
    expect(Object.values(state).flat().filter((f) => f.includes('lookout_stream_state') || f.includes('recognition_cooldown'))).toEqual([]);

    expect(await call('DELETE', `/gallery/subjects/${ID}`)).toMatchObject({ status: 200, body: { subjectId: ID } });
    expect((await call('GET', `/gallery/subjects/${ID}`)).status).toBe(404);
    // The sessions stay, without the id; the job is gone.
    for (const s of [ended.body, running.body]) {
      const after = await call<SessionInfo>('GET', `/sessions/${s.sessionId}`);
      expect(after.body).toMatchObject({ sessionId: s.sessionId, status: s === ended.body ? 'ended' : 'running', expectedSubjectErased: true });
      expect(after.body.expectedSubjectId).toBeUndefined();
    }
    expect((await call('GET', `/gallery/jobs/${submitted.body.jobId}`)).status).toBe(404);
    await until(() => Object.keys(grepDir(storeDir, needles)).length === 0, 'nothing of the subject in the store', 10_000).catch(() => {
      throw new Error(`left in the store after the delete: ${JSON.stringify(grepDir(storeDir, needles))}`);
    });

    // The person on camera is now nobody known, and Jolie is still recognised.
    analyses.items.length = 0;
    const again = [10, 11, 12, 13, 14, SWITCH_FRAME + 30, SWITCH_FRAME + 31, SWITCH_FRAME + 32, SWITCH_FRAME + 33, SWITCH_FRAME + 34].map((i) => files[i]!);
    for (const [j, f] of again.entries()) {
      const seq = files.length + j;
      frames.publish(room, stream, fs.readFileSync(path.join(frameDir, f)), { seq, captureMs: t0 + Math.round((seq * 1000) / VIDEO_FPS) });
      await until(() => analyses.items.some((m) => m.seq === seq), `analysis of frame ${seq}`);
    }
    const who = analyses.items.sort((a, b) => a.seq - b.seq).map((a) => a.faces[0]?.identity?.subjectId ?? null);
    expect(who.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(who.at(-1)).toBe('jolie');
    [analyses, alerts, recognitions].forEach((c) => c.close());

    // What the server writes when it stops (per-subject indexes, block indexes) holds nothing either.
    await nc.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats!.stop();
    expect(grepDir(storeDir, needles)).toEqual({});
    // Nor did any service log it (the gateway logged the requests, reid the erasure).
    expect(grepLines(services.flatMap((s) => s.output), needles)).toEqual({});
    expect(services.find((s) => s.name.startsWith('reid'))!.output.some((l) => l.includes('erased a gallery subject'))).toBe(true);
    nats = undefined;
  }, 300_000);
});
