import type { AnalysisMessage } from '@lookout/contracts';

/**
 * The recent analysis results of one stream, ordered by capture time, and the pipeline
 * latency measured on them (receipt time − captureMs; both are wall clocks, so this holds
 * when the SFU's and the browser's clocks agree, as NTP keeps them within a few ms).
 *
 * Overlays ask for the result closest to the capture time of the frame on screen
 * (`closest`), or for the current one with its age when the frame's time is unknown
 * (`current`).
 */
export interface Picked {
  msg: AnalysisMessage;
  /** Video frame time − the result's capture time (ms); positive = the result is older. */
  skewMs: number;
  /** True when the result was matched to the frame on screen, false for latest-with-age. */
  synced: boolean;
}

const KEEP_MS = 10_000;
/**
 * No result for this long (by this browser's clock): the stream's results stopped, and the
 * last one may no longer be true (the person may have left).
 */
export const SILENCE_MS = 2_000;
const KEEP_MAX = 120;
const LATENCY_SAMPLES = 50;
const GAP_SAMPLES = 45;

export class AnalysisBuffer {
  private readonly items: AnalysisMessage[] = [];
  private readonly latencies: number[] = [];
  /** Per presented video frame: its receipt → the first result captured after it (ms). */
  private readonly gaps: number[] = [];
  private listeners = new Set<() => void>();
  /** Frames received in total and when the last arrived (wall clock). */
  count = 0;
  lastReceivedMs = 0;
  firstReceivedMs = 0;

  push(msg: AnalysisMessage, receivedMs = Date.now()): void {
    const i = this.items.findLastIndex((m) => m.captureMs <= msg.captureMs);
    this.items.splice(i + 1, 0, msg);
    while (this.items.length > KEEP_MAX || (this.items.length > 1 && msg.captureMs - this.items[0]!.captureMs > KEEP_MS)) this.items.shift();
    this.latencies.push(Math.max(0, receivedMs - msg.captureMs));
    if (this.latencies.length > LATENCY_SAMPLES) this.latencies.shift();
    this.count++;
    this.firstReceivedMs ||= receivedMs;
    this.lastReceivedMs = receivedMs;
    for (const fn of this.listeners) fn();
  }

  /** Called after every push (overlays without a video to follow redraw then). */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latest(): AnalysisMessage | undefined {
    return this.items.at(-1);
  }

  /** The result whose capture time is nearest `frameMs`, if within `maxSkewMs`. */
  closest(frameMs: number, maxSkewMs: number): Picked | undefined {
    let best: AnalysisMessage | undefined;
    for (const m of this.items) if (!best || Math.abs(m.captureMs - frameMs) < Math.abs(best.captureMs - frameMs)) best = m;
    if (!best || Math.abs(best.captureMs - frameMs) > maxSkewMs) return undefined;
    return { msg: best, skewMs: frameMs - best.captureMs, synced: true };
  }

  /**
   * The newest result and how old it is now, while results keep arriving; undefined once
   * none arrived for `silenceMs`. Judged by when results arrive, not by their capture time:
   * a pipeline slower than `silenceMs` (a busy machine, fallback upload's encoding and
   * transfer) still shows what it found, with its age, and a capture clock that differs
   * from this browser's (another machine's) cannot hide results or keep stale ones.
   */
  current(nowMs: number, silenceMs = SILENCE_MS): Picked | undefined {
    const msg = this.latest();
    if (!msg || nowMs - this.lastReceivedMs > silenceMs) return undefined;
    return { msg, skewMs: nowMs - msg.captureMs, synced: false };
  }

  /**
   * How much later than the browser's receipt of a video frame the SFU's tap stamps the
   * result for that frame (`captureMs` is taken when ffmpeg emits the JPEG: decode time,
   * plus one input frame that the fps filter waits for). Estimated from the presented
   * frames: for a frame the tap sampled, the first result captured after its receipt is
   * its own, `d` later; for the frames in between it is later still, so a low percentile
   * of those gaps is `d`. Call with every presented frame's receipt time.
   */
  noteFrame(receivedMs: number): void {
    const next = this.items.find((m) => m.captureMs >= receivedMs);
    if (!next) return;
    this.gaps.push(next.captureMs - receivedMs);
    if (this.gaps.length > GAP_SAMPLES) this.gaps.shift();
  }

  /** The tap's stamping delay (see noteFrame); 0 until enough frames were seen. */
  tapDelayMs(): number {
    if (this.gaps.length < 10) return 0;
    const sorted = [...this.gaps].sort((a, b) => a - b);
    return Math.min(500, sorted[Math.floor(sorted.length * 0.1)]!);
  }

  /** Typical gap between analysed frames (ms), from the buffered capture times. */
  intervalMs(): number {
    const n = this.items.length;
    if (n < 2) return 200;
    return (this.items[n - 1]!.captureMs - this.items[0]!.captureMs) / (n - 1);
  }

  /** Median pipeline latency of the last LATENCY_SAMPLES results, or null before any. */
  latencyP50(): number | null {
    if (this.latencies.length === 0) return null;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)]!;
  }
}
