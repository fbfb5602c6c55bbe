import fc from 'fast-check';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type {
  ValidationError} from '@lookout/contracts';
import {
  decodeFrameHeaders,
  encodeFrameHeaders,
  jpegSize,
  parseStreamSubject,
  PREVIEW_LIMITS,
  RPC_COMMON_ERRORS,
  RPC_REQUEST_HEADER,
  rpcReply,
  type ErrorBody,
  type RpcOp,
  type Validator,
} from '@lookout/contracts';
import type { TSchema } from '@sinclair/typebox';
import { hostileBytes, hostileHeaderValue, hostilePayload, junkHeaderNames, type HeaderValue, type Payload } from './hostile.js';

/**
 * The fuzz cases of the NATS consumers: what is published, and what the consumer should
 * make of it (computed here with the same contracts functions the services use, so the
 * test knows how many refusals each service must count).
 */

const dec = new TextDecoder();

/** The frame headers' names, read from the contracts' own encoder (in its order). */
const names = encodeFrameHeaders({ seq: 0, captureMs: 0, width: 1, height: 1, room: 'r', stream: 's', peer: 'p' }).map(([k]) => k);
export const FRAME_HEADERS = { seq: names[0]!, captureMs: names[1]!, width: names[2]!, height: names[3]!, room: names[4]!, stream: names[5]!, peer: names[6]! } as const;

export interface FrameCase {
  subject: string;
  headers: Record<string, HeaderValue>;
  junk: Array<[string, string]>;
  body: Uint8Array;
  how: string;
}

/** Room and streams every valid-looking case names (few streams: the workers shed per stream). */
export const ROOM = 'fuzz';
export const STREAMS = ['s0', 's1', 's2', '__proto__', 'constructor'] as const;

/** A JPEG whose SOF says `width` × `height` (a decompression bomb's header). */
export function withSofSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(jpeg);
  let i = 2;
  while (i + 9 < out.length && out[i] === 0xff) {
    const marker = out[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out[i + 5] = height >> 8;
      out[i + 6] = height & 0xff;
      out[i + 7] = width >> 8;
      out[i + 8] = width & 0xff;
      return out;
    }
    i += 2 + ((out[i + 2]! << 8) | out[i + 3]!);
  }
  return out;
}

/** JPEG bodies: the real one, cut, bit-flipped, a bomb's header, or not a JPEG at all. */
export function jpegBodies(jpeg: Uint8Array): fc.Arbitrary<{ body: Uint8Array; how: string }> {
  return fc.oneof(
    fc.constant({ body: jpeg, how: 'jpeg' }),
    fc.integer({ min: 0, max: jpeg.length - 1 }).map((n) => ({ body: jpeg.subarray(0, n), how: 'jpeg:truncated' })),
    fc.array(fc.tuple(fc.integer({ min: 0, max: jpeg.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
      const b = Uint8Array.from(jpeg);
      for (const [at, x] of flips) b[at] = b[at]! ^ x;
      return { body: b, how: 'jpeg:flipped' };
    }),
    fc.constantFrom([65535, 65535], [0, 0], [1, 65535], [40000, 40000], [4097, 1]).map(([w, h]) => ({ body: withSofSize(jpeg, w!, h!), how: `jpeg:sof:${w}x${h}` })),
    hostileBytes.map((b) => ({ body: b, how: 'bytes' })),
  );
}

/** Subjects under `<kind>.>`: the fuzz room's streams, names that do not match the payload, more or fewer tokens. */
export function streamSubjects(kind: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...STREAMS).map((s) => `${kind}.${ROOM}.${s}`) },
    { weight: 1, arbitrary: fc.constantFrom(`${kind}.other.s0`, `${kind}.${ROOM}`, `${kind}.${ROOM}.s0.extra`, `${kind}.a.b.c.d`, `${kind}.${'r'.repeat(65)}.s0`, `${kind}.${ROOM}.prototype`) },
  );
}

/** Frames (or previews): headers mostly right, one or more wrong, missing, doubled; junk headers beside them. */
export function frameCases(kind: 'frames' | 'previews', jpeg: Uint8Array): fc.Arbitrary<FrameCase> {
  const size = jpegSize(jpeg)!;
  return fc
    .record({
      subject: streamSubjects(kind),
      mutated: fc.subarray(Object.keys(FRAME_HEADERS) as Array<keyof typeof FRAME_HEADERS>, { minLength: 0, maxLength: 3 }),
      values: fc.array(hostileHeaderValue, { minLength: 3, maxLength: 3 }),
      junk: fc.array(fc.tuple(junkHeaderNames, fc.stringMatching(/^[\x20-\x7e]{0,40}$/)), { maxLength: 3 }),
      body: jpegBodies(jpeg),
      captureSkewMs: fc.oneof(fc.constant(0), fc.integer({ min: -120_000, max: 120_000 })),
    })
    .map(({ subject, mutated, values, junk, body, captureSkewMs }) => {
      const addr = subject.split('.');
      const h: Record<string, HeaderValue> = {
        [FRAME_HEADERS.seq]: '1',
        [FRAME_HEADERS.captureMs]: String(Math.max(0, Date.now() + captureSkewMs)),
        [FRAME_HEADERS.width]: String(size.width),
        [FRAME_HEADERS.height]: String(size.height),
        [FRAME_HEADERS.room]: addr[1] ?? ROOM,
        [FRAME_HEADERS.stream]: addr[2] ?? 's0',
      };
      mutated.forEach((k, i) => (h[FRAME_HEADERS[k]] = values[i]));
      return { subject, headers: h, junk, body: body.body, how: `${mutated.length ? `headers:${mutated.join('+')}` : 'headers:ok'} body:${body.how}` };
    });
}

/** NATS headers from a case (values the client refuses to send make the case unsendable: undefined). */
export function toNatsHeaders(c: { headers: Record<string, HeaderValue>; junk: Array<[string, string]> }): MsgHdrs | undefined {
  const h = natsHeaders();
  try {
    for (const [k, v] of Object.entries(c.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
    }
    for (const [k, v] of c.junk) h.append(k, v);
  } catch {
    return undefined;
  }
  return h;
}

/** The getter the services read headers with: first value, '' as missing. */
function getter(c: { headers: Record<string, HeaderValue> }): (name: string) => string | undefined {
  return (name) => {
    const v = c.headers[name];
    // nats.js trims header values on receipt.
    const first = (Array.isArray(v) ? v[0] : v)?.trim();
    return first || undefined;
  };
}

/** What the detector makes of a frame's headers and subject: accepted, or refused (bad_headers). */
export function frameAccepted(c: FrameCase): boolean {
  try {
    const meta = decodeFrameHeaders(getter(c));
    const addr = parseStreamSubject(c.subject);
    return !!addr && addr.kind === 'frames' && addr.room === meta.room && addr.stream === meta.stream;
  } catch {
    return false;
  }
}

/** What a gateway's preview feed of ROOM makes of it (preview-feed.ts): sent, or refused. */
export function previewAccepted(c: FrameCase): boolean {
  try {
    const meta = decodeFrameHeaders(getter(c));
    const addr = parseStreamSubject(c.subject);
    if (meta.room !== ROOM || addr?.room !== ROOM || addr.stream !== meta.stream) return false;
    const b = c.body;
    return b.length <= PREVIEW_LIMITS.maxBytes && b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  } catch {
    return false;
  }
}

/** Subjects a gateway feed of ROOM receives (`<kind>.<ROOM>.*`). */
export function feedReceives(subject: string, kind: string): boolean {
  const t = subject.split('.');
  return t.length === 3 && t[0] === kind && t[1] === ROOM;
}

export interface JsonCase {
  subject: string;
  payload: Payload;
}

/** JSON messages on `<kind>.<room>.<stream>`: hostile payloads from a valid one naming the subject's room and stream. */
export function jsonCases(kind: string, valid: (room: string, stream: string) => unknown): fc.Arbitrary<JsonCase> {
  return streamSubjects(kind).chain((subject) => {
    const [, room = ROOM, stream = 's0'] = subject.split('.');
    return hostilePayload(valid(room, stream)).map((payload) => ({ subject, payload }));
  });
}

/** The parsed JSON of a payload, or undefined when it is not JSON. */
export function parsed(bytes: Uint8Array, decode: (b: Uint8Array) => string = (b) => dec.decode(b)): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(decode(bytes)) };
  } catch {
    return undefined;
  }
}

/** Whether `bytes` is a JSON value `v` accepts, and (`room`) names that room. */
export function jsonAccepted<T extends TSchema>(v: Validator<T>, bytes: Uint8Array, check: (value: Record<string, unknown>) => boolean = () => true): boolean {
  const p = parsed(bytes);
  return !!p && v.is(p.value) && check(p.value as Record<string, unknown>);
}

// ---- request/reply ----

export interface RpcCase {
  body: Uint8Array;
  /** The Lookout-Request header of an operation with a payload (undefined: left out). */
  request?: HeaderValue;
  how: string;
}

export interface RpcVerdict {
  /** Refused by validation: the field the reply must name ('' = root, undefined = not JSON). */
  invalid: boolean;
  field?: string;
}

/** What serve() must answer: invalid_request naming `field`, or (valid) whatever the handler says. */
export function rpcVerdict(op: RpcOp, c: RpcCase): RpcVerdict {
  let text: string;
  if (op.payload) {
    const v = Array.isArray(c.request) ? c.request[0] : c.request;
    text = v?.trim() || '{}';
  } else text = dec.decode(c.body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { invalid: true };
  }
  try {
    op.request.parse(value);
    return { invalid: false };
  } catch (err) {
    return { invalid: true, field: (err as ValidationError).field };
  }
}

/** Cases for one operation: hostile JSON bodies, or (payload ops) hostile request headers and JPEG bodies. */
export function rpcCases(op: RpcOp, valid: unknown, jpeg: Uint8Array): fc.Arbitrary<RpcCase> {
  if (!op.payload) return hostilePayload(valid).map((p) => ({ body: p.bytes, how: p.how }));
  const dec8 = (p: Payload) => dec.decode(p.bytes).replace(/[\r\n]/g, ' ');
  return fc.record({ header: fc.oneof(fc.constant(undefined), fc.constant(JSON.stringify(valid)), hostilePayload(valid).map(dec8), hostileHeaderValue), body: jpegBodies(jpeg) }).map(({ header, body }) => ({
    body: body.body,
    ...(header !== undefined ? { request: header } : {}),
    how: `request:${header === undefined ? 'none' : typeof header === 'string' && header === JSON.stringify(valid) ? 'ok' : 'hostile'} body:${body.how}`,
  }));
}

export type RpcOutcome = { kind: 'reply'; ok: true } | { kind: 'reply'; ok: false; error: ErrorBody } | { kind: 'timeout' | 'unsendable' | 'garbled'; message: string };

export async function sendRpc(nc: NatsConnection, subject: string, c: RpcCase, timeoutMs: number): Promise<RpcOutcome> {
  let hdrs: MsgHdrs | undefined;
  if (c.request !== undefined) {
    hdrs = toNatsHeaders({ headers: { [RPC_REQUEST_HEADER]: c.request }, junk: [] });
    if (!hdrs) return { kind: 'unsendable', message: 'header refused by the client' };
  }
  let data: Uint8Array;
  try {
    const msg = await nc.request(subject, c.body, { timeout: timeoutMs, ...(hdrs ? { headers: hdrs } : {}) });
    data = msg.data;
  } catch (err) {
    return { kind: 'timeout', message: (err as Error).message };
  }
  try {
    const reply = rpcReply.parse(JSON.parse(dec.decode(data)));
    return reply.ok ? { kind: 'reply', ok: true } : { kind: 'reply', ok: false, error: reply.error };
  } catch (err) {
    return { kind: 'garbled', message: (err as Error).message };
  }
}

/** Codes a valid request may get: the operation's own and the common ones but `internal` (a bug). */
export function allowedCodes(op: RpcOp): Set<string> {
  return new Set([...op.errors, ...RPC_COMMON_ERRORS.filter((c) => c !== 'internal')]);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
