import type { AnalysisMessage, ServerMessage } from '@lookout/contracts';

/** The part of AnalysisBuffer used here (no import, so tests load this alone). */
interface Results {
  closest(captureMs: number, maxSkewMs: number): { msg: AnalysisMessage; skewMs: number } | undefined;
  latencyP50(): number | null;
}

/** One downscaled frame of a fallback-upload stream (the gateway's `preview` feed). */
export type PreviewFrame = Extract<ServerMessage, { type: 'preview' }>['data'];

/** Frames kept while they wait for their analysis (the feed sends at most 2 a second). */
const KEEP = 8;
/** Waiting longer than the pipeline's usual latency plus this, a frame is shown without its analysis. */
const HOLD_MARGIN_MS = 500;
const HOLD_MAX_MS = 4_000;

/**
 * The recent preview frames of one stream, and which to show. A preview carries its
 * frame's `captureMs`, and so does that frame's analysis: the picture is held back until
 * its own analysis has arrived, so the boxes drawn over it are the ones found in it (the
 * same idea as delaying the SFU video by the pipeline latency). A frame whose analysis is
 * later than usual (or dropped by a busy detector) is shown anyway, with the current
 * result dimmed.
 */
export class PreviewFrames {
  /** Frames received in total. */
  count = 0;
  private items: Array<{ frame: PreviewFrame; receivedMs: number }> = [];
  private readonly listeners = new Set<() => void>();

  push(frame: PreviewFrame, receivedMs = Date.now()): void {
    const i = this.items.findLastIndex((x) => x.frame.captureMs <= frame.captureMs);
    this.items.splice(i + 1, 0, { frame, receivedMs });
    if (this.items.length > KEEP) this.items.shift();
    this.count++;
    for (const fn of this.listeners) fn();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * The newest frame that has its analysis or has waited too long for it; older frames are
   * forgotten (they will never be shown after a newer one). Undefined: nothing to show yet.
   */
  pick(buffer: Results, nowMs: number): { frame: PreviewFrame; analysed: boolean } | undefined {
    const holdMs = Math.min(HOLD_MAX_MS, (buffer.latencyP50() ?? 0) + HOLD_MARGIN_MS);
    for (let i = this.items.length - 1; i >= 0; i--) {
      const { frame, receivedMs } = this.items[i]!;
      const analysed = analysisOf(buffer, frame) !== undefined;
      if (!analysed && nowMs - receivedMs <= holdMs) continue;
      this.items.splice(0, i);
      return { frame, analysed };
    }
    return undefined;
  }
}

/** The analysis of exactly this frame (same capture time), if it arrived. */
export function analysisOf(buffer: Results, frame: PreviewFrame): { msg: AnalysisMessage; skewMs: number; synced: true } | undefined {
  const p = buffer.closest(frame.captureMs, 0);
  return p && p.msg.seq === frame.seq ? { ...p, synced: true } : undefined;
}
