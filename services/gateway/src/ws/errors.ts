import { LookoutError, ValidationError, WS_CLOSE, type ErrorCode } from '@lookout/contracts';

/**
 * The WebSocket's side of Lookout's one error type: a refused request is sent as
 * `error {code, message, field, id}`, and these codes close the socket right after.
 */
const CLOSE_CODES: Partial<Record<ErrorCode, number>> = {
  unauthorized: WS_CLOSE.unauthorized,
  invalid_token: WS_CLOSE.unauthorized,
  token_expired: WS_CLOSE.unauthorized,
  forbidden: WS_CLOSE.forbidden,
};

/** The close code that follows an error of `code`, if any. */
export const closeCodeOf = (code: ErrorCode): number | undefined => CLOSE_CODES[code];

/** A close frame's reason is at most 123 bytes. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/**
 * What a handler threw, as the error the client gets. A message that fails its schema is
 * `invalid_message`; `fieldPrefix` places a nested body's field (an SFU op's `data`) in the
 * client's message. Anything that is not a LookoutError is `internal`.
 */
export function toWsError(err: unknown, fieldPrefix = ''): LookoutError {
  const field = (f: string | undefined) => (f === undefined ? undefined : fieldPrefix ? `${fieldPrefix}/${f}`.replace(/\/$/, '') : f);
  if (err instanceof ValidationError) return new LookoutError('invalid_message', err.message, field(err.field));
  if (err instanceof LookoutError) return fieldPrefix ? new LookoutError(err.code, err.message, field(err.field), err.details) : err;
  return new LookoutError('internal', 'internal error');
}
