import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a receiver verifies a webhook request.
 *
 * Every request is `POST` with a JSON body `{ id, type, subject, data }` and the headers
 *
 * - `X-Lookout-Event-Id`: the event's id, the same on every retry of the event (it is the
 *   JetStream `Nats-Msg-Id` the event was stored with, e.g. `alert:<episode>:open`, or
 *   `LOOKOUT_EVENTS:<stream sequence>` when it has none). Delivery is at least once:
 *   deduplicate by this id.
 * - `X-Lookout-Timestamp`: Unix time in seconds when this attempt was signed (a retry is
 *   signed again, with a new timestamp).
 * - `X-Lookout-Signature`: `sha256=` + lowercase hex of HMAC-SHA256 keyed with the hook's
 *   secret (its UTF-8 bytes) over `<timestamp>.<raw body>` (the exact bytes received,
 *   before any JSON parsing).
 *
 * A receiver recomputes the HMAC, compares in constant time, and rejects timestamps too
 * far from its clock (e.g. ±5 minutes) so that a captured request cannot be replayed
 * later. Signing the timestamp with the body is what makes that check meaningful.
 */
export const SIGNATURE_HEADERS = {
  eventId: 'X-Lookout-Event-Id',
  timestamp: 'X-Lookout-Timestamp',
  signature: 'X-Lookout-Signature',
} as const;

const PREFIX = 'sha256=';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signPayload(secret: string, timestamp: string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return PREFIX + mac;
}

/** The three signing headers for one attempt at `nowMs`. */
export function signedHeaders(secret: string, eventId: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [SIGNATURE_HEADERS.eventId]: eventId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.signature]: signPayload(secret, timestamp, body),
  };
}

/**
 * What a receiver does (exported for tests and as a reference implementation): true when
 * the signature matches and the timestamp is within `toleranceS` of `nowMs`.
 */
export function verifySignature(secret: string, timestamp: string, body: string | Uint8Array, signature: string, opts: { nowMs?: number; toleranceS?: number } = {}): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  const skew = Math.abs((opts.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > (opts.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
