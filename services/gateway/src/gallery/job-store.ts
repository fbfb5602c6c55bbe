import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { storage, type EnrollJob } from '@lookout/contracts';
import { eraseKey, eraseMessage, kvKeys, kvStreamOf, type Logger } from '@lookout/service-kit';

export type JobResult = EnrollJob['results'][number];
export type JobError = NonNullable<EnrollJob['error']>;

/** A running job's record is rewritten at least this often, so readers can tell it is alive. */
export const HEARTBEAT_MS = 15_000;
/** A "running" record older than this lost its gateway (crash, kill -9): reported as failed. */
const STALE_MS = 4 * HEARTBEAT_MS;
/** Progress is written at most this often (the last write of a job is never skipped). */
const SAVE_EVERY_MS = 200;

const JOBS = kvStreamOf(storage.enrollJobs);

/**
 * Enrollment jobs live in KV (`lookout_enroll_jobs`, key = job id), so any gateway instance
 * answers "how far is job X", not just the one running it.
 *
 * A job names people (ZIP entry names, person names, subject ids), so each revision a
 * write replaces is erased (the bucket keeps history only so that none is dropped, bytes
 * and all, by the limit), and a subject's delete erases the jobs naming it
 * (`eraseSubject`; docs/gallery.md).
 */
export class JobStore {
  /** The revision this gateway last wrote of each job it runs: the one its next write replaces. */
  private readonly written = new Map<string, number>();
  /** Running jobs erased by a subject's delete: never written again. */
  private readonly erased = new Set<string>();

  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
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

  /** Writes the job; the revision it replaces is erased, and a finished job's is forgotten. */
  async put(job: EnrollJob): Promise<void> {
    if (this.erased.has(job.jobId)) {
      if (job.status !== 'running') this.erased.delete(job.jobId);
      return;
    }
    const revision = await this.kv.put(job.jobId, JSON.stringify(job));
    const replaced = this.written.get(job.jobId);
    if (job.status === 'running') this.written.set(job.jobId, revision);
    else this.written.delete(job.jobId);
    if (replaced !== undefined) await eraseMessage(this.jsm, JOBS.stream, replaced);
  }

  /**
   * Erases every job (all its revisions) whose record names the deleted subject: its id as
   * a result's subject, or one of its `names` as a result's person or within an entry name.
   * A job this gateway runs stops writing its record (it reads as gone); one that another
   * gateway runs would write its results again, so delete a subject after its enrollment
   * job finished. Returns the jobs erased.
   */
  async eraseSubject(subjectId: string, names: readonly string[]): Promise<number> {
    const needles = [subjectId, ...names].filter((n) => n.length > 0);
    let erased = 0;
    for (const jobId of await kvKeys(this.jsm, JOBS)) {
      const e = await this.kv.get(jobId);
      if (e?.operation !== 'PUT') continue;
      // As the record holds them: JSON-escaped (a name or an entry name may hold quotes).
      const text = e.string();
      if (!needles.some((n) => text.includes(n) || text.includes(JSON.stringify(n).slice(1, -1)))) continue;
      // A job this gateway still runs writes no more (its record would name the subject again).
      if (this.written.has(jobId)) this.erased.add(jobId);
      await eraseKey(this.jsm, JOBS, jobId);
      this.written.delete(jobId);
      erased++;
    }
    return erased;
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
