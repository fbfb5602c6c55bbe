import { Type, type Static } from '@sinclair/typebox';
import { Id } from './ids.js';
import { validator, ValidationError } from './validation.js';

/**
 * A frame on `frames.<room>.<stream>` is a JPEG body with its metadata in NATS headers,
 * so workers can decide to drop a stale frame without touching the body.
 */
export const FRAME_HEADERS = {
  seq: 'Lookout-Seq',
  captureMs: 'Lookout-Capture-Ms',
  width: 'Lookout-Width',
  height: 'Lookout-Height',
  room: 'Lookout-Room',
  stream: 'Lookout-Stream',
  peer: 'Lookout-Peer',
} as const;

/** Upper bounds that protect workers from absurd input. */
export const FRAME_LIMITS = {
  maxBytes: 4 * 1024 * 1024,
  maxWidth: 4096,
  maxHeight: 4096,
} as const;

export const FrameMeta = Type.Object(
  {
    seq: Type.Integer({ minimum: 0, description: 'Per-stream frame sequence, increasing' }),
    captureMs: Type.Integer({ minimum: 0, description: 'Capture time, ms since the Unix epoch' }),
    width: Type.Integer({ minimum: 1, maximum: FRAME_LIMITS.maxWidth }),
    height: Type.Integer({ minimum: 1, maximum: FRAME_LIMITS.maxHeight }),
    room: Id,
    stream: Id,
    peer: Type.Optional(Id),
  },
  { $id: 'FrameMeta', additionalProperties: false },
);
export type FrameMeta = Static<typeof FrameMeta>;
export const frameMeta = validator('frame headers', FrameMeta);

export function encodeFrameHeaders(meta: FrameMeta): Array<[string, string]> {
  const m = frameMeta.parse(meta);
  const out: Array<[string, string]> = [
    [FRAME_HEADERS.seq, String(m.seq)],
    [FRAME_HEADERS.captureMs, String(m.captureMs)],
    [FRAME_HEADERS.width, String(m.width)],
    [FRAME_HEADERS.height, String(m.height)],
    [FRAME_HEADERS.room, m.room],
    [FRAME_HEADERS.stream, m.stream],
  ];
  if (m.peer !== undefined) out.push([FRAME_HEADERS.peer, m.peer]);
  return out;
}

const INTEGER = /^\d{1,16}$/;

function intHeader(get: (name: string) => string | undefined, key: 'seq' | 'captureMs' | 'width' | 'height'): number {
  const raw = get(FRAME_HEADERS[key]);
  if (raw === undefined || raw === '') throw new ValidationError('frame headers', key, `missing header ${FRAME_HEADERS[key]}`);
  if (!INTEGER.test(raw)) throw new ValidationError('frame headers', key, `header ${FRAME_HEADERS[key]} is not a non-negative integer: ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Reads and validates frame metadata from headers (given as a getter, transport-agnostic). */
export function decodeFrameHeaders(get: (name: string) => string | undefined): FrameMeta {
  const peer = get(FRAME_HEADERS.peer);
  const meta: Record<string, unknown> = {
    seq: intHeader(get, 'seq'),
    captureMs: intHeader(get, 'captureMs'),
    width: intHeader(get, 'width'),
    height: intHeader(get, 'height'),
    room: get(FRAME_HEADERS.room),
    stream: get(FRAME_HEADERS.stream),
  };
  if (peer !== undefined && peer !== '') meta.peer = peer;
  return frameMeta.parse(meta);
}

/** Width and height from a JPEG's SOF marker (walking the marker segments); undefined if none. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    }
    i += 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
  }
  return undefined;
}
