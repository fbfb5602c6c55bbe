import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, JOB_FINAL_STATUSES, jobInfo, subjects, type JobInfo, type JobRecord, type JobStatus, type RuleThresholds } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { JobRunner } from './job-runner.js';
import type { JobStore } from './job-store.js';
import { ProgressRate } from './progress-rate.js';

/** A gateway renews the lease of each job it holds this often… */
export const RENEW_MS = 5000;
/** …for this long: a gateway silent for that long lost its jobs to whoever holds their video. */
export const LEASE_MS = 15_000;
/** Progress is written to KV and published at most this often (and at every change of status). */
export const PROGRESS_EVERY_MS = 1000;

export const isFinal = (s: JobStatus): boolean => (JOB_FINAL_STATUSES as readonly JobStatus[]).includes(s);

/** What a job needs between its creation and its session's start (not stored: the session holds it then). */
export interface SessionOptions {
  expectedSubjectId?: string;
  rules?: RuleThresholds;
}

/** A job this gateway holds: its freshest state (KV trails it by up to a second) and its runner. */
export class HeldJob {
  readonly rate = new ProgressRate();
  runner: JobRunner | undefined;
  lastWriteMs = 0;
  lastPublishMs = 0;
  /** Writes of one job run one after the other. */
  chain: Promise<unknown> = Promise.resolve();
  /** Cancelled, taken over or erased elsewhere: this gateway no longer writes it. */
  lost = false;
  /** This gateway is stopping: every write from now on gives the lease up (0), so a restart resumes at once. */
  released = false;

  constructor(
    public info: JobInfo,
    readonly session: SessionOptions = {},
  ) {}
}

export interface LedgerOptions {
  store: JobStore;
  nc: NatsConnection;
  /** This gateway (the lease's owner). */
  instance: string;
  /** Its JOBS_DIR's id (the record's mediaHost). */
  hostId: string;
  log: Logger;
  /** A held job's record says someone else has it now (cancelled elsewhere, taken over, deleted). */
  onLost: (h: HeldJob, rec: JobRecord | undefined) => void;
}

/**
 * The jobs this gateway holds and their records: progress checkpointed (compare-and-set,
 * at most every second, and at each change of status) with the lease renewed on every
 * write; JobInfo published on `jobs.<room>` for the sockets that follow the job.
 */
export class JobLedger {
  readonly held = new Map<string, HeldJob>();

  constructor(private readonly o: LedgerOptions) {}

  record(info: JobInfo, leaseUntilMs = Date.now() + LEASE_MS): JobRecord {
    return { info, owner: this.o.instance, leaseUntilMs, mediaHost: this.o.hostId };
  }

  /** Writes the job's record now (queued behind its other writes); false when it was lost. */
  write(h: HeldJob): Promise<boolean> {
    const next = h.chain.then(() => this.writeNow(h, h.released ? 0 : Date.now() + LEASE_MS));
    h.chain = next.catch(() => undefined);
    return next;
  }

  private async writeNow(h: HeldJob, leaseUntilMs: number): Promise<boolean> {
    if (h.lost) return false;
    h.lastWriteMs = Date.now();
    let lostTo: JobRecord | undefined;
    let gone = true;
    await this.o.store.update(h.info.jobId, (rec) => {
      gone = false;
      if (isFinal(rec.info.status) || rec.owner !== this.o.instance) {
        lostTo = rec;
        return undefined;
      }
      return { ...this.record(h.info, leaseUntilMs), ...(rec.mediaHost ? { mediaHost: rec.mediaHost } : {}) };
    });
    if (gone || lostTo) {
      h.lost = true;
      this.o.onLost(h, lostTo);
      return false;
    }
    return true;
  }

  /** Progress changed: written and published when a second has passed since the last time. */
  progressed(h: HeldJob): void {
    const now = Date.now();
    if (now - h.lastWriteMs >= PROGRESS_EVERY_MS) void this.write(h).catch((err: Error) => this.o.log.warn({ jobId: h.info.jobId, error: err.message }, 'job checkpoint not written'));
    if (now - h.lastPublishMs >= PROGRESS_EVERY_MS) this.publish(h);
  }

  /** A change of status: written and published at once. */
  async changed(h: HeldJob): Promise<boolean> {
    this.publish(h);
    return this.write(h);
  }

  publish(h: HeldJob): void {
    h.lastPublishMs = Date.now();
    try {
      this.o.nc.publish(subjects.jobProgress(h.info.room), encodeJson(jobInfo, h.info));
    } catch (err) {
      this.o.log.warn({ jobId: h.info.jobId, error: (err as Error).message }, 'job progress not published');
    }
  }

  /** Renews the lease of every held job (the timer calls it every RENEW_MS). */
  async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held.values()].map((h) => (Date.now() - h.lastWriteMs >= RENEW_MS - 500 ? this.write(h) : Promise.resolve(true)).catch((err: Error) => {
        this.o.log.warn({ jobId: h.info.jobId, error: err.message }, 'job lease not renewed');
      })),
    );
  }
}
