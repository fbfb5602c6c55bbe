import { createHash } from 'node:crypto';

/**
 * Notices a picture that stopped changing while frames keep coming: the tap then publishes a
 * frozen person as present. ffmpeg emits such copies when its input stops or jumps (its `fps`
 * filter repeats the last decoded frame), and they are byte-identical JPEGs.
 *
 * Only byte-identical frames count. A live camera never yields two identical JPEGs (sensor
 * noise changes some coefficient), even of an empty, still room, so "near-identical" would
 * flag exactly the still scenes that are genuinely live; a still *file* (a slide, a photo)
 * does freeze, and being told so is right: nobody is moving in it.
 *
 * Pure (time is passed in), so its rules are tested without ffmpeg.
 */
export class FreezeDetector {
  private lastHash: string | undefined;
  /**
   * When the first copy of the current picture arrived. Counted from the first *repeat*, not
   * from the picture's first frame: after an outage the first frames may repeat the last one
   * from before it, and time without frames is a stall (the tap's watchdog), not a freeze.
   */
  private repeatingSinceMs: number | undefined;
  /** Frames of the current picture so far. */
  private repeats = 0;

  /** @param frozenAfterMs copies of one picture arriving for this long are frozen; 0 turns detection off. */
  constructor(private readonly frozenAfterMs: number) {}

  /** A frame arrived; true if its picture differs from the last one. */
  frame(jpeg: Uint8Array, nowMs: number): boolean {
    const hash = createHash('sha1').update(jpeg).digest('base64');
    if (hash !== this.lastHash) {
      this.lastHash = hash;
      this.repeatingSinceMs = undefined;
      this.repeats = 1;
      return true;
    }
    this.repeats++;
    this.repeatingSinceMs ??= nowMs;
    return false;
  }

  /** Whether copies of one picture have been arriving for the configured time. */
  frozen(nowMs: number): boolean {
    return this.frozenAfterMs > 0 && this.repeatingSinceMs !== undefined && nowMs - this.repeatingSinceMs >= this.frozenAfterMs;
  }

  /**
   * A new run of the tap starts timing afresh (so a picture still frozen fails it again only
   * after the full time, not at its first frame), but remembers the picture: its copies are
   * still copies.
   */
  restartClock(): void {
    this.repeatingSinceMs = undefined;
  }

  /** How many frames in a row have carried the current picture. */
  get identicalFrames(): number {
    return this.repeats;
  }
}
