import { headers, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, FRAME_LIMITS, jpegSize, LookoutError, subjects, type ClientMessage, type FrameMeta } from '@lookout/contracts';
import { toWsError } from './errors.js';

export type FrameHeader = Extract<ClientMessage, { type: 'frame' }>;

/**
 * Fallback upload: a JPEG sent over the socket is published on `frames.<room>.<stream>`
 * with the same headers as the SFU's tap, so detector and reid cannot tell it apart.
 */
export class FrameUpload {
  constructor(private readonly nc: NatsConnection) {}

  /** Validates and publishes; throws a LookoutError naming the bad field (`data` = the JPEG). */
  publish(room: string, peer: string, header: FrameHeader, jpeg: Buffer): FrameMeta {
    if (jpeg.length > FRAME_LIMITS.maxBytes) throw new LookoutError('invalid_frame', `data: ${jpeg.length} bytes, more than ${FRAME_LIMITS.maxBytes}`, 'data');
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) throw new LookoutError('invalid_frame', 'data: not a JPEG (no SOI marker)', 'data');
    const size = this.sizeOf(header, jpeg);
    let meta: FrameMeta;
    let encoded: Array<[string, string]>;
    try {
      meta = { seq: header.seq, captureMs: header.captureMs, ...size, room, stream: header.stream, peer };
      encoded = encodeFrameHeaders(meta);
    } catch (err) {
      throw toWsError(err);
    }
    const h = headers();
    for (const [k, v] of encoded) h.set(k, v);
    try {
      this.nc.publish(subjects.frames(room, header.stream), jpeg, { headers: h });
    } catch (err) {
      // e.g. over the NATS server's max_payload once the headers are counted
      throw new LookoutError('frame_not_published', `data: ${(err as Error).message}`, 'data');
    }
    return meta;
  }

  private sizeOf(header: FrameHeader, jpeg: Buffer): { width: number; height: number } {
    if (header.width !== undefined && header.height !== undefined) return { width: header.width, height: header.height };
    if ((header.width === undefined) !== (header.height === undefined)) {
      const missing = header.width === undefined ? 'width' : 'height';
      throw new LookoutError('invalid_message', `${missing}: width and height go together`, missing);
    }
    const size = jpegSize(jpeg);
    if (!size || size.width < 1 || size.height < 1) throw new LookoutError('invalid_frame', 'data: no frame size in the JPEG (no SOF marker) and none given', 'data');
    return size;
  }
}
