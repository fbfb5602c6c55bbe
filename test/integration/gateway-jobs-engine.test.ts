import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { decodeJson, jobInfo, kvBuckets, type JobInfo, type JobRecord, type SessionReport } from '@lookout/contracts';
import {
  apiCall,
  enrollVideoPeople,
  metricValue,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  TWO_PEOPLE_VIDEO,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

/** The video's length and the cut from one person to the other (test/fixtures/faces/README.md). */
const VIDEO_MS = 12_000;
const SWITCH_VIDEO_MS = 6000;
const FPS = 5;
const FRAMES = (VIDEO_MS / 1000) * FPS;
/** One sample interval at 5 fps. */
const TOLERANCE_MS = 1000 / FPS;

/**
 * The job engine (docs/jobs.md) end to end on real processes: the two-person video is
 * uploaded to the gateway, which decodes it, keeps a window of frames at the detector,
 * hands them to reid in order and ends the job's session; the report is the live one's,
 * with video times. Then the faults a job must ride out without losing a frame: the
 * detector and reid SIGKILLed and replaced mid-job, and the gateway itself killed and
 * started again on the same JOBS_DIR (the job resumes from its checkpoint).
 */
describe('gateway recording jobs (real nats-server, detector, reid, gateway; the two-person video uploaded)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  let reid: RunningService;
  let gateway: RunningService;
  let base: string;
  let jobsDir: string;
  /** Every JobInfo published on jobs.>, by job. */
  const progress = new Map<string, JobInfo[]>();
  const listeners = new Set<(j: JobInfo) => void>();

  // One job at a time, so the queue shows (the tests run their jobs one after the other anyway).
  const gatewayEnv = () => ({ ...TEST_GATEWAY_ENV, JOBS_DIR: jobsDir, JOB_MAX_RUNNING: '1' });

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'gateway-jobs-test' });
    jobsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-jobs-'));
    nc.subscribe('jobs.>', {
      callback: (_e, m) => {
        const j = decodeJson(jobInfo, m.data);
        progress.set(j.jobId, [...(progress.get(j.jobId) ?? []), j]);
        for (const l of listeners) l(j);
      },
    });
    [detector, reid, gateway] = await Promise.all([startService('detector', nats.url), startService('reid', nats.url), startService('gateway', nats.url, gatewayEnv())]);
    base = `http://127.0.0.1:${gateway.httpPort}`;
    await enrollVideoPeople(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([detector?.stop(), reid?.stop(), gateway?.stop()]);
    await stopAllProcesses();
    await nats?.stop();
    if (jobsDir) fs.rmSync(jobsDir, { recursive: true, force: true });
  });

  /** Resolves with the first progress of `jobId` (already seen or to come) that `match` accepts. */
  function progressOf(jobId: () => string | undefined, match: (j: JobInfo) => boolean, timeoutMs = 240_000): Promise<JobInfo> {
    return new Promise((resolve, reject) => {
      const check = (j: JobInfo) => {
        if (j.jobId !== jobId() || !match(j)) return false;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(j);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`job ${jobId()}: no such progress within ${timeoutMs} ms; last: ${JSON.stringify(progress.get(jobId() ?? '')?.at(-1))}`));
      }, timeoutMs);
      listeners.add(check);
      for (const j of progress.get(jobId() ?? '') ?? []) if (check(j)) return;
    });
  }

  async function upload(name: string): Promise<JobInfo> {
    const res = await apiCall<JobInfo>(base, 'POST', `/jobs?name=${name}&fps=${FPS}&expectedSubjectId=obama`, { body: fs.readFileSync(TWO_PEOPLE_VIDEO), headers: { 'content-type': 'video/webm' } });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function reportOf(job: JobInfo): Promise<SessionReport> {
    const res = await apiCall<SessionReport>(base, 'GET', `/sessions/${job.sessionId}/report`);
    expect(res.status).toBe(200);
    return res.body;
  }

  function expectIdentityChangeAtTheCut(r: SessionReport): void {
    const changes = r.alerts.filter((a) => a.kind === 'identity_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: { subjectId: 'obama' }, to: { subjectId: 'jolie' } });
    expect(Math.abs(changes[0]!.videoMs! - SWITCH_VIDEO_MS)).toBeLessThanOrEqual(TOLERANCE_MS);
  }

  it('analyses the uploaded video into the session report, with the identity change at 6 s of video time', async () => {
    const t0 = Date.now();
    const created = await upload('two-people');
    expect(created).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), durationMs: VIDEO_MS, framesTotal: FRAMES, fps: FPS, room: `rec-${created.jobId}`, stream: 'video' });
    const done = await progressOf(() => created.jobId, (j) => j.status === 'done' || j.status === 'failed');
    const wallMs = Date.now() - t0;
    expect(done).toMatchObject({ status: 'done', framesDone: FRAMES, framesTotal: FRAMES, framesFailed: 0 });
    expect(done.waiting).toBeUndefined();
    // The record in KV says the same as the last progress published.
    expect((await apiCall<JobInfo>(base, 'GET', `/jobs/${created.jobId}`)).body).toMatchObject({ status: 'done', framesDone: FRAMES });

    const r = await reportOf(done);
    console.log(
      `job: ${VIDEO_MS / 1000} s of video (${FRAMES} frames at ${FPS} fps) analysed in ${(wallMs / 1000).toFixed(1)} s of wall time (${(VIDEO_MS / wallMs).toFixed(2)} video s per s, upload and probe included); ` +
        `report: ${r.framesAnalysed} frames, alerts ${r.alerts.map((a) => `${a.kind}@${a.videoMs}ms`).join(', ')}`,
    );
    expect(r.session).toMatchObject({ status: 'ended', recording: { jobId: created.jobId, videoBaseMs: done.videoBaseMs, durationMs: VIDEO_MS }, endedMs: done.videoBaseMs! + VIDEO_MS });
    expect(r.framesAnalysed).toBe(FRAMES);
    expectIdentityChangeAtTheCut(r);
    expect(r.alerts.every((a) => a.videoMs !== undefined && a.videoMs >= 0 && a.videoMs <= VIDEO_MS)).toBe(true);
    expect(r.identity).toMatchObject({ expectedSubjectId: 'obama', changes: 1, verified: false });
    expect(r.gaps).toEqual([]);
  }, 300_000);

  it('loses no frame when the detector and then reid are SIGKILLed and replaced mid-job', async () => {
    const created = await upload('killed-workers');
    const job = () => created.jobId;

    await progressOf(job, (j) => j.framesDone >= 10);
    detector.child.kill('SIGKILL');
    await detector.exited;
    const waited = await progressOf(job, (j) => j.waiting !== undefined, 60_000);
    console.log(`detector killed at ${waited.framesDone} frames done; the job says: ${waited.waiting}`);
    detector = await startService('detector', nats.url);
    const resumed = await progressOf(job, (j) => j.framesDone > waited.framesDone && j.waiting === undefined);

    const reidAt = Math.max(resumed.framesDone, 30);
    await progressOf(job, (j) => j.framesDone >= reidAt || j.status === 'done');
    reid.child.kill('SIGKILL');
    await reid.exited;
    reid = await startService('reid', nats.url);

    const done = await progressOf(job, (j) => j.status === 'done' || j.status === 'failed');
    expect(done).toMatchObject({ status: 'done', framesDone: FRAMES, framesTotal: FRAMES, framesFailed: 0 });
    const r = await reportOf(done);
    console.log(`after the kills: ${r.framesAnalysed} frames in the report, alerts ${r.alerts.map((a) => `${a.kind}@${a.videoMs}ms`).join(', ')}; gateway retries ${await retries()}`);
    expect(r.framesAnalysed).toBe(FRAMES);
    expectIdentityChangeAtTheCut(r);
  }, 400_000);

  it('queues what is beyond JOB_MAX_RUNNING and runs it next, oldest first', async () => {
    const first = await upload('first');
    const second = await upload('second');
    const queued = await progressOf(() => second.jobId, (j) => j.status !== 'fetching');
    const ended = (j: JobInfo) => progressOf(() => j.jobId, (p) => p.status === 'done' || p.status === 'failed');
    const [a, b] = [await ended(first), await ended(second)];
    expect(queued.status).toBe('queued');
    expect(a).toMatchObject({ status: 'done', framesDone: FRAMES });
    expect(b).toMatchObject({ status: 'done', framesDone: FRAMES });
    expect(b.startedMs!).toBeGreaterThanOrEqual(a.endedMs!);
    const listed = (await apiCall<{ jobs: JobInfo[] }>(base, 'GET', '/jobs')).body.jobs.map((j) => j.jobId);
    expect(listed.indexOf(second.jobId)).toBeLessThan(listed.indexOf(first.jobId));
  }, 300_000);

  it('cancels a running job (its session ends where analysis stopped), then deletes it with its video; a text file is refused', async () => {
    const res = await apiCall<JobInfo>(base, 'POST', '/jobs?name=cancelled&fps=10', { body: fs.readFileSync(TWO_PEOPLE_VIDEO), headers: { 'content-type': 'video/webm' } });
    expect(res.status).toBe(201);
    const job = () => res.body.jobId;
    await progressOf(job, (j) => j.status === 'running' && j.framesDone >= 5);
    const cancelled = await apiCall<JobInfo>(base, 'POST', `/jobs/${job()}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', endedMs: expect.any(Number) } });
    const last = await progressOf(job, (j) => j.status === 'cancelled');
    expect(last.framesDone).toBeLessThan(120);
    expect((await apiCall<{ error: { code: string } }>(base, 'POST', `/jobs/${job()}/cancel`)).body.error.code).toBe('job_ended');
    const session = (await apiCall<{ status: string; endedMs: number }>(base, 'GET', `/sessions/${res.body.sessionId}`)).body;
    expect(session.status).toBe('ended');
    expect(session.endedMs).toBeLessThan(res.body.videoBaseMs! + VIDEO_MS);
    // The video stays for the report's player until the job is deleted.
    expect(fs.existsSync(path.join(jobsDir, `${job()}.video`))).toBe(true);
    expect((await apiCall(base, 'DELETE', `/jobs/${job()}`)).status).toBe(204);
    expect((await apiCall(base, 'GET', `/jobs/${job()}`)).status).toBe(404);
    expect(fs.existsSync(path.join(jobsDir, `${job()}.video`))).toBe(false);
    expect((await apiCall(base, 'GET', `/sessions/${res.body.sessionId}/report`)).status).toBe(200);

    const before = fs.readdirSync(jobsDir).length;
    const text = await apiCall<{ error: { code: string } }>(base, 'POST', '/jobs?name=notes', { body: 'not a video\n'.repeat(1000), headers: { 'content-type': 'video/webm' } });
    expect(text).toMatchObject({ status: 422, body: { error: { code: 'not_video' } } });
    expect(fs.readdirSync(jobsDir)).toHaveLength(before);
  }, 300_000);

  it('resumes a job after its gateway is SIGKILLed: a new gateway on the same JOBS_DIR finishes it', async () => {
    const created = await upload('killed-gateway');
    const job = () => created.jobId;
    const before = await progressOf(job, (j) => j.framesDone >= 10);
    gateway.child.kill('SIGKILL');
    await gateway.exited;
    gateway = await startService('gateway', nats.url, gatewayEnv());
    base = `http://127.0.0.1:${gateway.httpPort}`;
    // The lease of the dead gateway runs out (15 s), then the new one takes the job over.
    const done = await progressOf(job, (j) => j.status === 'done' || j.status === 'failed');
    expect(done).toMatchObject({ status: 'done', framesDone: FRAMES, framesTotal: FRAMES, framesFailed: 0 });
    const r = await reportOf(done);
    console.log(`gateway killed at ${before.framesDone} frames done; resumed and done: ${r.framesAnalysed} frames in the report`);
    expect(r.framesAnalysed).toBe(FRAMES);
    expectIdentityChangeAtTheCut(r);
  }, 400_000);

  it('a gateway stopped with SIGTERM checkpoints its job and gives its lease up; the next one resumes it', async () => {
    const created = await upload('stopped-gateway');
    const job = () => created.jobId;
    const before = await progressOf(job, (j) => j.framesDone >= 10);
    expect(await gateway.stop()).toBe(0);
    const kv = await new Kvm(nc).open(kvBuckets.jobs);
    const rec = (await kv.get(job()))?.json<JobRecord>();
    expect(rec).toMatchObject({ leaseUntilMs: 0, info: { status: 'running' } });
    expect(rec!.info.framesDone).toBeGreaterThanOrEqual(before.framesDone);
    gateway = await startService('gateway', nats.url, gatewayEnv());
    base = `http://127.0.0.1:${gateway.httpPort}`;
    const done = await progressOf(job, (j) => j.status === 'done' || j.status === 'failed');
    expect(done).toMatchObject({ status: 'done', framesDone: FRAMES, framesFailed: 0 });
    const r = await reportOf(done);
    console.log(`gateway stopped at ${rec!.info.framesDone} frames checkpointed; resumed and done: ${r.framesAnalysed} frames in the report`);
    expect(r.framesAnalysed).toBe(FRAMES);
    expectIdentityChangeAtTheCut(r);
  }, 300_000);

  it('two jobs running at once share the detector: when the first is done the second is well on its way', async () => {
    expect(await gateway.stop()).toBe(0);
    gateway = await startService('gateway', nats.url, { ...gatewayEnv(), JOB_MAX_RUNNING: '2' });
    base = `http://127.0.0.1:${gateway.httpPort}`;
    const [a, b] = await Promise.all([upload('fair-a'), upload('fair-b')]);
    const ended = (j: JobInfo) => progressOf(() => j.jobId, (p) => p.status === 'done' || p.status === 'failed');
    const first = await Promise.race([ended(a), ended(b)]);
    const other = first.jobId === a.jobId ? b : a;
    // Its progress as it stood when the first finished (published at most a second apart).
    const otherThen = (progress.get(other.jobId) ?? []).filter((p) => p.status === 'running').at(-1);
    const last = await ended(other);
    console.log(`fair share: ${first.jobId} done when ${other.jobId} had ${otherThen?.framesDone ?? 0} of ${FRAMES} frames`);
    expect(first).toMatchObject({ status: 'done', framesDone: FRAMES });
    expect(last).toMatchObject({ status: 'done', framesDone: FRAMES, framesFailed: 0 });
    // Both ran at once (no queue), and neither waited for the other. One after the other, the
    // second would end a whole job's time after the first; sharing, they end close together.
    // (Progress is published about once a second, a quarter of a job here: too coarse to assert on.)
    expect(last.startedMs!).toBeLessThan(first.endedMs!);
    const firstTook = first.endedMs! - Math.min(first.startedMs!, last.startedMs!);
    console.log(`fair share: the second ended ${last.endedMs! - first.endedMs!} ms after the first, which took ${firstTook} ms`);
    expect(last.endedMs! - first.endedMs!).toBeLessThan(firstTook / 2);
  }, 300_000);

  async function retries(): Promise<string> {
    const text = (await gateway.get('/metrics')).body;
    return ['detector_unavailable', 'reid_unavailable', 'reid_uncommitted'].map((reason) => `${reason} ${metricValue(text, 'lookout_gateway_job_retries_total', { reason }) ?? 0}`).join(', ');
  }
});
