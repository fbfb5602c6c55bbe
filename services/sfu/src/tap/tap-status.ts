import type { AnalysisState, StreamAnalysis, TapFailureCode } from '@lookout/contracts';

export interface TapStatusPolicy {
  /** Consecutive failures after which analysis is reported unavailable. */
  unavailableAfterFailures: number;
  /** Or: a failure this long after the last frame (or the first start) makes it unavailable. */
  unavailableAfterMs: number;
  /** Delay before the first retry; doubles per consecutive failure up to `maxRetryDelayMs`. */
  firstRetryDelayMs: number;
  maxRetryDelayMs: number;
}

/** Failures of the picture rather than of the tap: it ran, but what it saw was not live. */
const PICTURE_FAILURES: ReadonlySet<TapFailureCode> = new Set(['stalled', 'frozen', 'flooding']);

export const DEFAULT_TAP_STATUS_POLICY: TapStatusPolicy = { unavailableAfterFailures: 3, unavailableAfterMs: 10_000, firstRetryDelayMs: 1_000, maxRetryDelayMs: 10_000 };

/**
 * The analysis state of one stream's frame tap, from what happened to it: starts, frames,
 * failures, pauses. Pure (time is passed in) so the rules are tested without ffmpeg.
 * `onChange` hears every change of state, code or reason, not every frame.
 */
export class TapStatus {
  private snapshot: StreamAnalysis;
  /** Since when the stream has had no frame: the last frame, or the first start after one. */
  private dryFromMs: number;

  constructor(
    nowMs: number,
    private readonly onChange: (analysis: StreamAnalysis) => void = () => undefined,
    private readonly policy: TapStatusPolicy = DEFAULT_TAP_STATUS_POLICY,
  ) {
    this.snapshot = { state: 'starting', sinceMs: nowMs, failures: 0 };
    this.dryFromMs = nowMs;
  }

  get current(): StreamAnalysis {
    return this.snapshot;
  }

  get failures(): number {
    return this.snapshot.failures;
  }

  /** A frame was published. */
  frame(nowMs: number): void {
    const wasLive = this.snapshot.state === 'live';
    this.dryFromMs = nowMs;
    if (wasLive) {
      this.snapshot.lastFrameMs = nowMs;
      return;
    }
    this.set({ state: 'live', sinceMs: nowMs, failures: 0, lastFrameMs: nowMs });
  }

  /** The tap failed; returns how long to wait before starting it again. */
  failed(nowMs: number, code: TapFailureCode, reason: string): number {
    const failures = this.snapshot.failures + 1;
    if (this.snapshot.state === 'live' || this.snapshot.state === 'paused') this.dryFromMs = nowMs;
    const unavailable = failures >= this.policy.unavailableAfterFailures || nowMs - this.dryFromMs >= this.policy.unavailableAfterMs;
    const state: AnalysisState = unavailable ? 'unavailable' : PICTURE_FAILURES.has(code) ? 'stalled' : 'retrying';
    const lastFrame = this.snapshot.lastFrameMs;
    this.set({ state, sinceMs: state === this.snapshot.state ? this.snapshot.sinceMs : nowMs, failures, code, reason, ...(lastFrame ? { lastFrameMs: lastFrame } : {}) });
    return Math.min(this.policy.maxRetryDelayMs, this.policy.firstRetryDelayMs * 2 ** (failures - 1));
  }

  /** The producer paused: nothing to sample, and not a failure. */
  paused(nowMs: number): void {
    const lastFrame = this.snapshot.lastFrameMs;
    this.set({ state: 'paused', sinceMs: nowMs, failures: 0, ...(lastFrame ? { lastFrameMs: lastFrame } : {}) });
  }

  /** The producer resumed: starting again, with a fresh count. */
  resumed(nowMs: number): void {
    if (this.snapshot.state !== 'paused') return;
    this.dryFromMs = nowMs;
    const lastFrame = this.snapshot.lastFrameMs;
    this.set({ state: 'starting', sinceMs: nowMs, failures: 0, ...(lastFrame ? { lastFrameMs: lastFrame } : {}) });
  }

  private set(next: StreamAnalysis): void {
    const prev = this.snapshot;
    this.snapshot = next;
    if (prev.state !== next.state || prev.code !== next.code || prev.reason !== next.reason) this.onChange({ ...next });
  }
}
