import type { KV } from '@nats-io/kv';
import type { EnrollJob } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';

export type JobResult = EnrollJob['results'][number];
export type JobError = NonNullable<EnrollJob['error']>;

/** A running job's record is rewritten at least this often, so readers can tell it is alive. */
export const HEARTBEAT_MS = 15_000;
/** A "running" record older than this lost its gateway (crash, kill -9): reported as failed. */
const STALE_MS = 4 * HEARTBEAT_MS;
/** Progress is written at most this often (the last write of a job is never skipped). */
const SAVE_EVERY_MS = 200;

/**
 * Enrollment jobs live in KV (`lookout_enroll_jobs`, key = job id), so any gateway instance
 * answers "how far is job X", not just the one running it.
 */
export class JobStore {
  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  async get(jobId: string): Promise<EnrollJob | undefined> {
    const e = await this.kv.get(jobId);
    if (e?.operation !== 'PUT') return undefined;
    const job = e.json<EnrollJob>();
    if (job.status === 'running' && Date.now() - job.updatedMs > STALE_MS) {
      return { ...job, status: 'failed', error: { code: 'interrupted', message: 'the gateway running this job stopped before it finished; upload the ZIP again' } };
    }
    return job;
  }

  async put(job: EnrollJob): Promise<void> {
    await this.kv.put(job.jobId, JSON.stringify(job));
  }

  /** A job's live record: results are appended in memory and written out throttled. */
  progress(job: EnrollJob): JobProgress {
    return new JobProgress(this, job, this.log);
  }
}

export class JobProgress {
  private lastSave = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: JobStore,
    readonly job: EnrollJob,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => void this.save(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  setTotal(total: number): void {
    this.job.total = total;
    this.changed();
  }

  add(result: JobResult): void {
    this.job.results.push(result);
    this.job.processed = this.job.results.length;
    this.changed();
  }

  /** Ends the job (done, or failed with `error`) and writes it; resolves once written. */
  async finish(error?: JobError): Promise<void> {
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    this.job.status = error ? 'failed' : 'done';
    if (error) this.job.error = error;
    await this.save();
  }

  private changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSave + SAVE_EVERY_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, wait);
  }

  /** Writes are chained so an older snapshot never lands after a newer one. */
  private save(): Promise<void> {
    this.lastSave = Date.now();
    this.job.updatedMs = this.lastSave;
    const snapshot: EnrollJob = { ...this.job, results: [...this.job.results] };
    this.writing = this.writing.then(() => this.store.put(snapshot)).catch((err: Error) => this.log.warn({ err, jobId: this.job.jobId }, 'enroll job: progress not saved'));
    return this.writing;
  }
}
