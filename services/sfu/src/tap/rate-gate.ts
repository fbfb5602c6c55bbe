/**
 * Keeps a tap from publishing faster than its room's sample rate, whatever ffmpeg emits.
 *
 * ffmpeg's `fps` filter fills a forward jump of its input timestamps with copies of the last
 * frame, as fast as it can: a source whose RTP timestamps jump (a relaunched sender, a camera
 * that reboots) once made a tap publish ~500 copies of one frozen frame a second. The gate is
 * a token bucket: `fps × (1 + slack)` tokens a second, at most `burst` saved up, so frames that
 * arrive in a clump after a pipe or jitter-buffer hiccup still pass, a flood does not.
 *
 * Pure (time is passed in), so its rules are tested without ffmpeg.
 */
export interface RateGatePolicy {
  /** The room's sample rate, frames per second. */
  fps: number;
  /** Extra rate allowed over `fps` (0.25 = 25%), for ffmpeg's timing jitter. */
  slack: number;
  /** Frames that may pass back to back after a quiet spell. */
  burst: number;
  /** Frames dropped within this window that, at `overproduceFactor` × fps or more, mean ffmpeg overproduces. */
  windowMs: number;
  /** Arrivals at this multiple of fps over a whole window count as overproducing. */
  overproduceFactor: number;
}

export const DEFAULT_RATE_GATE = { slack: 0.25, burst: 2, windowMs: 3000, overproduceFactor: 2 } as const;

export class RateGate {
  private tokens: number;
  private lastMs: number | undefined;
  /** When each recently dropped frame arrived, oldest first (only the last window is kept). */
  private readonly drops: number[] = [];
  dropped = 0;

  constructor(private readonly p: RateGatePolicy) {
    this.tokens = p.burst;
  }

  /** A frame arrived at `nowMs`: true if it may be published. */
  admit(nowMs: number): boolean {
    const ratePerMs = (this.p.fps * (1 + this.p.slack)) / 1000;
    if (this.lastMs !== undefined) this.tokens = Math.min(this.p.burst, this.tokens + Math.max(0, nowMs - this.lastMs) * ratePerMs);
    this.lastMs = nowMs;
    this.forget(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    this.drops.push(nowMs);
    return false;
  }

  /**
   * True when ffmpeg has produced frames at `overproduceFactor` × the rate or more through a
   * window: dropping them is not enough, the run is confused and should be restarted. One
   * clump (the `fps` filter filling a short gap with copies, all at once) is not that: the
   * drops must be spread over at least half the window.
   */
  overproducing(nowMs: number): boolean {
    this.forget(nowMs);
    const first = this.drops[0];
    const last = this.drops.at(-1);
    if (first === undefined || last === undefined || last - first < this.p.windowMs / 2) return false;
    // Admitted frames are at most the allowed rate, so the drops alone must make up the excess.
    const excess = (this.p.overproduceFactor - 1 - this.p.slack) * this.p.fps * (this.p.windowMs / 1000);
    return this.drops.length >= Math.max(this.p.burst + 1, excess);
  }

  private forget(nowMs: number): void {
    while (this.drops.length > 0 && nowMs - this.drops[0]! >= this.p.windowMs) this.drops.shift();
  }
}
