import type { Msg } from '@nats-io/transport-node';
import { decodeFrameHeaders, parseStreamSubject, PREVIEW_LIMITS, ServerPreview, validator, ValidationError } from '@lookout/contracts';
import { RateGate } from './rate-gate.js';

const serverPreview = validator('preview', ServerPreview);
/** Streams one room's preview feed remembers for its rate limit. */
const MAX_STREAMS = 1000;

/**
 * Turns `previews.<room>.*` messages into `preview` WebSocket messages for one room's
 * feed: each is checked against the feed's limits (size, dimensions, a JPEG, the room and
 * stream its subject names) and rate-limited per stream (PREVIEW_LIMITS.maxFps on average,
 * a burst of 2 for network jitter) before it is encoded once for every socket.
 * Returns undefined for a preview over the rate; throws ValidationError for a bad one.
 */
export function previewEncoder(room: string): (msg: Msg) => Buffer | undefined {
  const gate = new RateGate(1000 / PREVIEW_LIMITS.maxFps, 2, MAX_STREAMS);
  return (msg) => {
    const meta = decodeFrameHeaders((name) => msg.headers?.get(name) || undefined);
    const addr = parseStreamSubject(msg.subject);
    if (meta.room !== room || addr?.room !== room || addr.stream !== meta.stream) throw new ValidationError('preview', 'room', `headers name ${meta.room}/${meta.stream} on subject ${msg.subject}`);
    const jpeg = msg.data;
    if (jpeg.length > PREVIEW_LIMITS.maxBytes) throw new ValidationError('preview', 'jpeg', `${jpeg.length} bytes, more than ${PREVIEW_LIMITS.maxBytes}`);
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) throw new ValidationError('preview', 'jpeg', 'not a JPEG (no SOI marker)');
    if (!gate.pass(meta.stream, Date.now())) return undefined;
    const { seq, captureMs, width, height, stream } = meta;
    const message = serverPreview.parse({ type: 'preview', data: { room, stream, seq, captureMs, width, height, jpeg: Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.length).toString('base64') } });
    return Buffer.from(JSON.stringify(message));
  };
}
