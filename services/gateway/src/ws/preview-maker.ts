import sharp from 'sharp';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, FRAME_LIMITS, PREVIEW_LIMITS, subjects, type FrameMeta } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { RateGate } from './rate-gate.js';

/** What became of an uploaded frame offered for a preview (label of lookout_gateway_ws_previews_total). */
export type PreviewOutcome = 'published' | 'rate_limited' | 'busy' | 'too_large' | 'failed';

/** Scalings at once on this gateway: previews are worth less than the frames' analysis. */
const MAX_IN_FLIGHT = 4;
const QUALITY = 60;

// The gateway scales a few small frames a second: no cache of decoded inputs, one thread each.
sharp.cache(false);
sharp.concurrency(1);

/**
 * Makes the `preview` feed's pictures where the frames arrive: of each stream uploaded
 * through this gateway, at most PREVIEW_LIMITS.maxFps frames a second are scaled down to
 * fit PREVIEW_LIMITS and published on `previews.<room>.<stream>` with the frame's own
 * headers (seq, captureMs) and the preview's size. Scaling once here, rather than in every
 * gateway that has viewers, keeps `previews.*` small and the work independent of how many
 * watch. A frame is skipped, never queued, when the stream's rate is spent or too many
 * scalings are running: a late preview is worth nothing.
 */
export class PreviewMaker {
  private readonly gate = new RateGate(1000 / PREVIEW_LIMITS.maxFps);
  private inFlight = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly counted: (outcome: PreviewOutcome) => void,
    private readonly log: Logger,
  ) {}

  /** Called with every uploaded frame once it was published on `frames.*`. */
  offer(meta: FrameMeta, jpeg: Buffer, nowMs = Date.now()): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return this.counted('busy');
    if (!this.gate.pass(`${meta.room}.${meta.stream}`, nowMs)) return this.counted('rate_limited');
    this.inFlight++;
    void this.make(meta, jpeg)
      .then((outcome) => this.counted(outcome))
      .catch((err: Error) => {
        this.log.debug({ room: meta.room, stream: meta.stream, error: err.message }, 'preview not made');
        this.counted('failed');
      })
      .finally(() => this.inFlight--);
  }

  /** Scalings running now. */
  get busy(): number {
    return this.inFlight;
  }

  private async make(meta: FrameMeta, jpeg: Buffer): Promise<PreviewOutcome> {
    const { data, info } = await sharp(jpeg, { failOn: 'truncated', limitInputPixels: FRAME_LIMITS.maxWidth * FRAME_LIMITS.maxHeight })
      .resize({ width: PREVIEW_LIMITS.maxWidth, height: PREVIEW_LIMITS.maxHeight, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: QUALITY })
      .toBuffer({ resolveWithObject: true });
    if (data.length > PREVIEW_LIMITS.maxBytes) return 'too_large';
    const h = headers();
    for (const [k, v] of encodeFrameHeaders({ ...meta, width: info.width, height: info.height })) h.set(k, v);
    this.nc.publish(subjects.previews(meta.room, meta.stream), data, { headers: h });
    return 'published';
  }
}
