import { backoffDelay } from '@lookout/service-kit';

/**
 * Backoff between two tries of a job's frame: 250 ms doubling to 5 s, and back to the
 * start once a call succeeds. Jobs never give up on a frame a replica did not answer;
 * this only keeps them from hammering NATS while no replica is there.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 250,
    private readonly maxMs = 5000,
  ) {}

  /** The delay before the next try. */
  next(): number {
    return backoffDelay(++this.attempt, this.firstMs, this.maxMs);
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface RateEstimate {
  etaMs?: number;
  videoSecondsPerSecond?: number;
}

/**
 * The recent pace of a job, from (time, frames done) samples over the last `spanMs`: the
 * rate since the job started would hide a replica that just joined or died. Pure, clock
 * passed in.
 */
export class ProgressRate {
  private samples: Array<{ ms: number; frames: number }> = [];

  constructor(
    private readonly spanMs = 20_000,
    /** Shorter than this the rate says nothing yet. */
    private readonly minSpanMs = 1000,
  ) {}

  record(nowMs: number, framesDone: number): void {
    this.samples.push({ ms: nowMs, frames: framesDone });
    // Keep one sample at or before the span's start, so the span is always covered.
    while (this.samples.length > 2 && this.samples[1]!.ms <= nowMs - this.spanMs) this.samples.shift();
  }

  /** Frames per wall second recently; undefined before minSpanMs of samples. */
  framesPerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.ms - first.ms < this.minSpanMs) return undefined;
    return ((last.frames - first.frames) * 1000) / (last.ms - first.ms);
  }

  /** ETA to `framesTotal` and video seconds analysed per wall second, at the recent rate. */
  estimate(framesDone: number, framesTotal: number | undefined, fps: number): RateEstimate {
    const rate = this.framesPerSecond();
    if (rate === undefined) return {};
    const out: RateEstimate = { videoSecondsPerSecond: Math.round((rate / fps) * 100) / 100 };
    if (framesTotal !== undefined && rate > 0) out.etaMs = Math.round((Math.max(0, framesTotal - framesDone) / rate) * 1000);
    return out;
  }
}
