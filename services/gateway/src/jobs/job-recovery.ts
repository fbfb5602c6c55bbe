import { LookoutError, type JobRecord } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { HeldJob, isFinal, LEASE_MS, type JobLedger } from './job-ledger.js';
import type { JobFiles } from './job-files.js';
import type { JobStore } from './job-store.js';

/**
 * A job whose lease ran out this long ago, and whose video no gateway scanning has in its
 * JOBS_DIR, is failed `media_lost`: the gateway that held the video has not come back.
 */
export const MEDIA_LOST_AFTER_MS = 10 * 60_000;

export interface RecoveryOptions {
  store: JobStore;
  ledger: JobLedger;
  instance: string;
  hostId: string;
  files: JobFiles;
  /** Ends a claimed job that cannot go on (its session too). */
  fail: (h: HeldJob, err: LookoutError) => Promise<void>;
  log: Logger;
}

/**
 * Taking over jobs whose gateway is gone (a restart, a crash): a job whose lease ran out
 * and whose video is in this gateway's JOBS_DIR is claimed by compare-and-set (one
 * claimant wins) and queued again; its runner resumes after the checkpoint. A video that
 * was still being received is lost with its upload; one that is gone fails the job.
 */
export class JobRecovery {
  lastScanMs = 0;

  constructor(private readonly o: RecoveryOptions) {}

  /** Claims what it can; returns the jobs to queue. */
  async scan(nowMs = Date.now()): Promise<HeldJob[]> {
    this.lastScanMs = nowMs;
    const out: HeldJob[] = [];
    // The directory first: any video in it had its record written before, so the list has it.
    const videos = this.o.files.held();
    const records = await this.o.store.list();
    await this.sweep(videos, new Set(records.map((r) => r.info.jobId)));
    for (const rec of records) {
      const id = rec.info.jobId;
      if (isFinal(rec.info.status) || this.o.ledger.held.has(id) || (rec.leaseUntilMs ?? 0) > nowMs) continue;
      const here = rec.mediaHost === this.o.hostId;
      if (!here && nowMs - (rec.leaseUntilMs ?? 0) < MEDIA_LOST_AFTER_MS) continue;
      const claimed = await this.claim(id, nowMs);
      if (!claimed) continue;
      const h = new HeldJob(claimed.info);
      this.o.ledger.held.set(id, h);
      this.o.log.info({ jobId: id, status: claimed.info.status, framesDone: claimed.info.framesDone, from: rec.owner }, 'took over a job');
      if (claimed.info.status === 'fetching') {
        this.o.files.erase(id);
        await this.o.fail(h, new LookoutError('fetch_failed', 'the gateway receiving the video stopped before it had all of it'));
      } else if (!here || !this.o.files.find(id)) {
        await this.o.fail(h, new LookoutError('media_lost', 'the video of this job is no longer held by any gateway'));
      } else {
        h.info = { ...h.info, status: 'queued' };
        if (await this.o.ledger.changed(h)) out.push(h);
      }
    }
    return out;
  }

  /**
   * Erases the videos here whose job is gone (deleted through another gateway, or a record
   * lost). `videos` was read before the records, and a record is written before its video,
   * so a job being created is never taken for one.
   */
  private async sweep(videos: string[], known: Set<string>): Promise<void> {
    for (const id of videos) {
      // Asked once more: a record the list skipped (unreadable for a moment) is no deleted job.
      if (known.has(id) || (await this.o.store.get(id).catch(() => 'unknown')) !== undefined) continue;
      this.o.log.info({ jobId: id }, 'erased the video of a deleted job');
      this.o.files.erase(id);
    }
  }

  /** Takes the job if its lease is still out (compare-and-set): the record as claimed, or undefined. */
  private async claim(jobId: string, nowMs: number): Promise<JobRecord | undefined> {
    let won = false;
    const rec = await this.o.store.update(jobId, (r) => {
      won = false;
      if (isFinal(r.info.status) || (r.leaseUntilMs ?? 0) > nowMs) return undefined;
      won = true;
      return { ...r, owner: this.o.instance, leaseUntilMs: Date.now() + LEASE_MS };
    });
    return won ? rec : undefined;
  }
}
