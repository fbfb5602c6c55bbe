import { headers, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, jpegSize, subjects, type FrameMeta } from '@lookout/contracts';

/** Publishes JPEG frames the way the SFU tap does: body + validated metadata headers. */
export class FramePublisher {
  private seq = 0;
  constructor(private readonly nc: NatsConnection) {}

  publish(room: string, stream: string, jpeg: Uint8Array, meta: Partial<Pick<FrameMeta, 'width' | 'height' | 'captureMs' | 'seq'>> = {}): FrameMeta {
    const size = meta.width && meta.height ? { width: meta.width, height: meta.height } : safeSize(jpeg);
    const full: FrameMeta = { seq: meta.seq ?? this.seq++, captureMs: meta.captureMs ?? Date.now(), ...size, room, stream };
    const h = headers();
    for (const [k, v] of encodeFrameHeaders(full)) h.set(k, v);
    this.nc.publish(subjects.frames(room, stream), jpeg, { headers: h });
    return full;
  }
}

/** Broken JPEGs are published on purpose by tests; their headers still need a size. */
function safeSize(jpeg: Uint8Array): { width: number; height: number } {
  return jpegSize(jpeg) ?? { width: 1, height: 1 };
}
