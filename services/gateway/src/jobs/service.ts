import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { JOB_STREAM, jobRoom, LookoutError, notFound, type JobInfo, type JobSource, type RuleThresholds } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { newSessionId } from '../sessions/session-store.js';
import type { SessionService } from '../sessions/service.js';
import { JobFiles } from './job-files.js';
import { HeldJob, isFinal, JobLedger, RENEW_MS } from './job-ledger.js';
import type { JobMetrics } from './job-metrics.js';
import { JobRecovery } from './job-recovery.js';
import { JobRunner, type RunnerSettings } from './job-runner.js';
import { JobSessions } from './job-sessions.js';
import type { JobStore } from './job-store.js';
import { probeMedia } from './media-probe.js';

export interface JobSettings extends RunnerSettings {
  /** Absolute: where videos are held. */
  jobsDir: string;
  ffprobePath: string;
  maxRunning: number;
}

export interface JobServiceOptions {
  nc: NatsConnection;
  store: JobStore;
  sessions: SessionService;
  /** This gateway: the lease owner. */
  instance: string;
  settings: JobSettings;
  metrics: JobMetrics;
  log: Logger;
}

export interface JobCreate {
  source: JobSource;
  name: string;
  fps: number;
  expectedSubjectId?: string;
  rules?: RuleThresholds;
}

/** Leases renewed, orphans looked for, the gauge refreshed this often. */
const SCAN_EVERY_MS = 3 * RENEW_MS;

/**
 * Recording jobs (docs/jobs.md): created by the routes (upload, URL), probed, then run by
 * this gateway — at most `maxRunning` at once, the others queued by creation time — each
 * with its own window of frames at the detectors. State in KV under a lease, so a job
 * survives this gateway's restart (or another's, if they share JOBS_DIR).
 */
export class JobService {
  private readonly files: JobFiles;
  private readonly ledger: JobLedger;
  private readonly jobSessions: JobSessions;
  private readonly recovery: JobRecovery;
  private readonly queue: HeldJob[] = [];
  private running = 0;
  private readonly ended = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly o: JobServiceOptions) {
    this.files = new JobFiles(o.settings.jobsDir);
    this.jobSessions = new JobSessions(o.sessions, o.log);
    const hostId = this.files.hostId;
    this.ledger = new JobLedger({ store: o.store, nc: o.nc, instance: o.instance, hostId, log: o.log, onLost: (h, rec) => this.lost(h, rec) });
    this.recovery = new JobRecovery({ store: o.store, ledger: this.ledger, instance: o.instance, hostId, files: this.files, fail: (h, err) => this.finish(h, 'failed', err), log: o.log });
  }

  async create(input: JobCreate): Promise<{ info: JobInfo; videoPath: string }> {
    if (input.expectedSubjectId) await this.o.sessions.checkSubject(input.expectedSubjectId);
    const now = Date.now();
    const jobId = `j${now.toString(36)}${randomBytes(6).toString('base64url')}`;
    const info: JobInfo = {
      jobId,
      name: input.name,
      room: jobRoom(jobId),
      stream: JOB_STREAM,
      sessionId: newSessionId(now),
      source: input.source,
      status: 'fetching',
      fps: input.fps,
      createdMs: now,
      bytes: 0,
      framesDone: 0,
      framesFailed: 0,
    };
    const session = { ...(input.expectedSubjectId ? { expectedSubjectId: input.expectedSubjectId } : {}), ...(input.rules ? { rules: input.rules } : {}) };
    await this.o.store.create(this.ledger.record(info));
    this.ledger.held.set(jobId, new HeldJob(info, session));
    this.ledger.publish(this.ledger.held.get(jobId)!);
    this.countJobs();
    return { info, videoPath: this.files.path(jobId) };
  }

  setBytes(jobId: string, bytes: number): void {
    const h = this.ledger.held.get(jobId);
    if (!h || h.info.status !== 'fetching') return;
    h.info = { ...h.info, bytes };
    this.ledger.progressed(h);
  }

  async mediaReady(jobId: string, bytes: number): Promise<JobInfo> {
    const h = this.fetching(jobId);
    h.info = { ...h.info, bytes };
    const s = this.o.settings;
    let durationMs: number;
    try {
      ({ durationMs } = await probeMedia(s.ffprobePath, s.ffmpegPath, this.files.path(jobId)));
      if (durationMs > s.maxDurationS * 1000) throw new LookoutError('too_long', `video: ${(durationMs / 1000).toFixed(1)} s is longer than the limit of ${s.maxDurationS} s (JOB_MAX_DURATION_S)`, 'video');
    } catch (err) {
      const e = err instanceof LookoutError ? err : new LookoutError('not_video', `video: ${(err as Error).message}`, 'video');
      await this.mediaFailed(jobId, e);
      throw e;
    }
    this.fetching(jobId); // cancelled while it was probed
    // Every capture time lies in the past, so no stage takes the job's frames for live ones from the future.
    // A whole second, so the report's seconds are the video's seconds.
    const videoBaseMs = Math.floor((Date.now() - durationMs - 1000) / 1000) * 1000;
    h.info = { ...h.info, durationMs, videoBaseMs, framesTotal: Math.max(1, Math.round((durationMs * h.info.fps) / 1000)) };
    try {
      await this.jobSessions.start(h.info, h.session);
    } catch (err) {
      await this.mediaFailed(jobId, err as LookoutError);
      throw err;
    }
    h.info = { ...h.info, status: 'queued' };
    const queued = h.info;
    await this.ledger.changed(h);
    this.enqueue(h);
    return queued;
  }

  async mediaFailed(jobId: string, err: LookoutError): Promise<void> {
    const h = this.ledger.held.get(jobId);
    if (h && !isFinal(h.info.status)) await this.finish(h, 'failed', err);
    this.files.erase(jobId);
  }

  async get(jobId: string): Promise<JobInfo | undefined> {
    const h = this.ledger.held.get(jobId);
    if (h) return h.info;
    return (await this.o.store.get(jobId))?.rec.info;
  }

  async list(): Promise<JobInfo[]> {
    return (await this.o.store.list()).map((r) => this.ledger.held.get(r.info.jobId)?.info ?? r.info);
  }

  async cancel(jobId: string): Promise<JobInfo> {
    const stored = await this.o.store.get(jobId);
    if (!stored) throw notFound(`job: no job ${jobId}`, 'job');
    if (isFinal(stored.rec.info.status)) throw new LookoutError('job_ended', `job: ${jobId} has ended (${stored.rec.info.status})`, 'job');
    const h = this.ledger.held.get(jobId);
    if (h) {
      h.runner?.stop();
      await this.finish(h, 'cancelled');
      return h.info;
    }
    // Held by another gateway: it sees the record cancelled at its next write and stops.
    let ended: JobInfo | undefined;
    await this.o.store.update(jobId, (rec) => {
      if (isFinal(rec.info.status)) return undefined;
      ended = { ...rec.info, status: 'cancelled', endedMs: Date.now() };
      delete ended.waiting;
      delete ended.etaMs;
      return { ...rec, info: ended };
    });
    if (!ended) throw new LookoutError('job_ended', `job: ${jobId} has ended`, 'job');
    await this.jobSessions.end(ended);
    return ended;
  }

  async remove(jobId: string): Promise<void> {
    const stored = await this.o.store.get(jobId);
    if (!stored && !this.ledger.held.has(jobId)) throw notFound(`job: no job ${jobId}`, 'job');
    if (stored && !isFinal(stored.rec.info.status)) {
      await this.cancel(jobId).catch((err: unknown) => {
        if (!(err instanceof LookoutError && err.code === 'job_ended')) throw err;
      });
    }
    this.files.erase(jobId);
    await this.o.store.erase(jobId);
  }

  /** The held video of a job, when this gateway holds it. */
  videoFile(jobId: string): string | undefined {
    return this.files.find(jobId);
  }

  /** Takes over the jobs whose video is here and whose gateway is gone, then keeps looking. */
  async start(): Promise<void> {
    await this.scan();
    this.timer = setInterval(() => void this.tick(), RENEW_MS);
  }

  /** Stops every runner; checkpoints are written and leases released, so a restart resumes at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.queue.length = 0;
    const held = [...this.ledger.held.values()];
    for (const h of held) {
      h.released = true;
      h.runner?.stop();
    }
    await Promise.all(
      held.map(async (h) => {
        if (h.info.status === 'fetching') return this.finish(h, 'failed', new LookoutError('fetch_failed', 'the gateway stopped while it received the video'));
        await this.ledger.write(h).catch(() => undefined);
      }),
    );
  }

  private async tick(): Promise<void> {
    await this.ledger.renewAll();
    if (Date.now() - this.recovery.lastScanMs >= SCAN_EVERY_MS) await this.scan();
  }

  private async scan(): Promise<void> {
    try {
      for (const h of await this.recovery.scan()) this.enqueue(h);
    } catch (err) {
      this.o.log.warn({ error: (err as Error).message }, 'looking for jobs to take over failed');
    }
    this.countJobs();
  }

  private enqueue(h: HeldJob): void {
    this.queue.push(h);
    this.queue.sort((a, b) => a.info.createdMs - b.info.createdMs);
    this.schedule();
  }

  /** Starts queued jobs, oldest first, while fewer than maxRunning run. */
  private schedule(): void {
    while (!this.stopping && this.running < this.o.settings.maxRunning && this.queue.length > 0) {
      const h = this.queue.shift()!;
      if (h.lost || isFinal(h.info.status)) continue;
      this.running++;
      void this.runJob(h).finally(() => {
        this.running--;
        this.countJobs();
        this.schedule();
      });
    }
    this.countJobs();
  }

  private async runJob(h: HeldJob): Promise<void> {
    h.info = { ...h.info, status: 'running', startedMs: h.info.startedMs ?? Date.now() };
    // Lost (cancelled or taken over meanwhile): not run. A write that failed (NATS away) is retried by the lease timer.
    if ((await this.ledger.changed(h).catch(() => true)) === false) return;
    const runner = new JobRunner({
      nc: this.o.nc,
      job: { ...h.info, videoBaseMs: h.info.videoBaseMs ?? 0 },
      videoPath: this.files.path(h.info.jobId),
      settings: this.o.settings,
      metrics: this.o.metrics,
      log: this.o.log,
      onProgress: (p) => {
        const now = Date.now();
        h.rate.record(now, p.framesDone);
        const total = p.framesTotal ?? h.info.framesTotal;
        const { waiting: _w, etaMs: _e, videoSecondsPerSecond: _v, ...rest } = h.info;
        h.info = { ...rest, ...p, ...(total !== undefined ? { framesTotal: total } : {}), ...h.rate.estimate(p.framesDone, total, h.info.fps) };
        this.ledger.progressed(h);
      },
    });
    h.runner = runner;
    try {
      const r = await runner.run();
      if (r.outcome === 'stopped' || h.lost || isFinal(h.info.status)) return;
      h.info = { ...h.info, framesDone: r.framesTotal, framesTotal: r.framesTotal };
      await this.finish(h, 'done');
    } catch (err) {
      if (h.lost || this.stopping) return;
      const e = err instanceof LookoutError ? err : new LookoutError('internal', `job: ${(err as Error).message}`);
      this.o.log.error({ jobId: h.info.jobId, error: e.message }, 'job failed');
      await this.finish(h, 'failed', e);
    } finally {
      h.runner = undefined;
    }
  }

  /** A final status: written, published, the session ended (a done job's at the video's end), the job let go. */
  private async finish(h: HeldJob, status: 'done' | 'failed' | 'cancelled', err?: LookoutError): Promise<void> {
    const { waiting: _w, etaMs: _e, ...rest } = h.info;
    h.info = { ...rest, status, endedMs: Date.now(), ...(status === 'done' ? { etaMs: 0 } : {}), ...(err ? { error: err.toBody() } : {}) };
    await this.jobSessions.end(h.info);
    await this.ledger.changed(h).catch((e: Error) => this.o.log.warn({ jobId: h.info.jobId, error: e.message }, 'final job state not written'));
    this.ledger.held.delete(h.info.jobId);
    this.remember(h.info.jobId);
    this.countJobs();
  }

  /** Jobs this gateway ended lately: a late upload's mediaReady is told job_ended, not not_found. */
  private remember(jobId: string): void {
    this.ended.add(jobId);
    if (this.ended.size > 1000) this.ended.delete(this.ended.values().next().value!);
  }

  private lost(h: HeldJob, rec: unknown): void {
    this.o.log.info({ jobId: h.info.jobId, now: (rec as { info?: JobInfo } | undefined)?.info?.status ?? 'deleted' }, 'job changed elsewhere: this gateway lets it go');
    h.runner?.stop();
    this.ledger.held.delete(h.info.jobId);
    // Deleted through another gateway: the video here goes too.
    if (!rec) this.files.erase(h.info.jobId);
    this.countJobs();
  }

  /** A job still receiving its video here; job_ended (cancelled meanwhile) or not_found otherwise. */
  private fetching(jobId: string): HeldJob {
    const h = this.ledger.held.get(jobId);
    if (h?.info.status === 'fetching') return h;
    if (h || this.ended.has(jobId)) throw new LookoutError('job_ended', `job: ${jobId} is ${h?.info.status ?? 'over'}`, 'job');
    throw notFound(`job: no job ${jobId} is receiving its video here`, 'job');
  }

  private countJobs(): void {
    this.o.metrics.count([...this.ledger.held.values()].map((h) => h.info.status));
  }
}
