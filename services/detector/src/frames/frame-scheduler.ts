import { fairlyAdmitted, LatestFrameQueue } from '@lookout/service-kit';

/** What the worker analyses next, and where it came from. */
export type Turn<L, J> = { kind: 'live'; item: L } | { kind: 'job'; item: J };

/**
 * The order in which one detector replica analyses what it holds (docs/detector.md,
 * "Recording-job frames"):
 *
 * - Live frames first. A live stream keeps only its latest waiting frame (a newer one
 *   supersedes it): a live viewer wants now, not a backlog.
 * - A recording job's frame only when no live frame waits. A job is lossless, so its
 *   frames are never superseded; instead about `maxJobsWaiting` wait here, and a frame
 *   beyond that is refused (`pushJob` returns false) for its caller to offer elsewhere or
 *   later, rather than queued where nobody can see how long it waits. Jobs share: each
 *   keeps a fair share of the places (service-kit fairlyAdmitted), and they take turns,
 *   one frame each, in order within a job.
 *
 * Pure: no clock, no I/O. Live frames' age is judged by the worker when their turn comes.
 */
export class FrameScheduler<L, J> {
  private readonly live = new LatestFrameQueue<L>();
  /** Job frames by job, in the order the jobs take their turns (a Map keeps insertion order). */
  private jobs = new Map<string, J[]>();
  private jobCount = 0;

  constructor(readonly maxJobsWaiting: number) {
    if (!Number.isInteger(maxJobsWaiting) || maxJobsWaiting < 1) throw new RangeError(`maxJobsWaiting must be a positive integer, got ${maxJobsWaiting}`);
  }

  get liveWaiting(): number {
    return this.live.size;
  }

  get jobsWaiting(): number {
    return this.jobCount;
  }

  /** Queues a live frame of stream `key`; returns the frame of that stream it superseded. */
  pushLive(key: string, item: L): L | undefined {
    return this.live.push(key, item);
  }

  /** Queues a frame of job `job` at the back of its line; false (nothing queued) when the job already holds its share of a full queue. */
  pushJob(job: string, item: J): boolean {
    const mine = this.jobs.get(job);
    const owners = this.jobs.size + (mine ? 0 : 1);
    if (!fairlyAdmitted({ waiting: this.jobCount, waitingOfOwner: mine?.length ?? 0, owners, max: this.maxJobsWaiting })) return false;
    if (mine) mine.push(item);
    else this.jobs.set(job, [item]);
    this.jobCount++;
    return true;
  }

  /** The next thing to analyse: the oldest live frame, else the next job's oldest frame (jobs take turns). */
  next(): Turn<L, J> | undefined {
    const live = this.live.shift();
    if (live !== undefined) return { kind: 'live', item: live };
    const first = this.jobs.entries().next();
    if (first.done) return undefined;
    const [job, line] = first.value;
    const item = line.shift()!;
    this.jobCount--;
    // To the back of the turn order, or out when its line is empty.
    this.jobs.delete(job);
    if (line.length > 0) this.jobs.set(job, line);
    return { kind: 'job', item };
  }

  /** Empties both queues and returns what waited (for the worker to answer the job frames). */
  clear(): { live: L[]; jobs: J[] } {
    const jobs = [...this.jobs.values()].flat();
    this.jobs = new Map();
    this.jobCount = 0;
    return { live: this.live.clear(), jobs };
  }
}
