import { LatestFrameQueue } from '@lookout/service-kit';

/** What the worker analyses next, and where it came from. */
export type Turn<L, J> = { kind: 'live'; item: L } | { kind: 'job'; item: J };

/**
 * The order in which one detector replica analyses what it holds (docs/detector.md,
 * "Recording-job frames"):
 *
 * - Live frames first. A live stream keeps only its latest waiting frame (a newer one
 *   supersedes it): a live viewer wants now, not a backlog.
 * - A recording job's frame only when no live frame waits, first come first served. A job
 *   is lossless, so its frames are never superseded; instead at most `maxJobsWaiting` wait
 *   here, and a frame beyond that is refused (`pushJob` returns false) for its caller to
 *   offer elsewhere or later, rather than queued where nobody can see how long it waits.
 *
 * Pure: no clock, no I/O. Live frames' age is judged by the worker when their turn comes.
 */
export class FrameScheduler<L, J> {
  private readonly live = new LatestFrameQueue<L>();
  private jobs: J[] = [];

  constructor(readonly maxJobsWaiting: number) {
    if (!Number.isInteger(maxJobsWaiting) || maxJobsWaiting < 1) throw new RangeError(`maxJobsWaiting must be a positive integer, got ${maxJobsWaiting}`);
  }

  get liveWaiting(): number {
    return this.live.size;
  }

  get jobsWaiting(): number {
    return this.jobs.length;
  }

  /** Queues a live frame of stream `key`; returns the frame of that stream it superseded. */
  pushLive(key: string, item: L): L | undefined {
    return this.live.push(key, item);
  }

  /** Queues a job frame at the back; false (nothing queued) when `maxJobsWaiting` already wait. */
  pushJob(item: J): boolean {
    if (this.jobs.length >= this.maxJobsWaiting) return false;
    this.jobs.push(item);
    return true;
  }

  /** The next thing to analyse: the oldest live frame, else the oldest job frame. */
  next(): Turn<L, J> | undefined {
    const live = this.live.shift();
    if (live !== undefined) return { kind: 'live', item: live };
    const job = this.jobs.shift();
    return job === undefined ? undefined : { kind: 'job', item: job };
  }

  /** Empties both queues and returns what waited (for the worker to answer the job frames). */
  clear(): { live: L[]; jobs: J[] } {
    const jobs = this.jobs;
    this.jobs = [];
    return { live: this.live.clear(), jobs };
  }
}
