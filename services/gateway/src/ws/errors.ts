import { ValidationError, WS_CLOSE } from '@lookout/contracts';
import { ApiError } from '../http/errors.js';

/**
 * A refused WebSocket request: sent as `error {code, message, field, id}`. With `close`
 * set, the socket is closed with that code right after the error (auth refusals).
 */
export class WsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly close?: number,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

/** A close frame's reason is at most 123 bytes. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

export const unauthorized = (code: string, message: string, field?: string) => new WsError(code, message, field, WS_CLOSE.unauthorized);
export const forbidden = (message: string, field?: string) => new WsError('forbidden', message, field, WS_CLOSE.forbidden);

/**
 * Maps what a handler threw to a WsError. `fieldPrefix` places a nested body's field
 * (an SFU op's `data`) in the client's message.
 */
export function toWsError(err: unknown, fieldPrefix = ''): WsError {
  if (err instanceof WsError) return err;
  const field = (f: string | undefined) => (f === undefined ? undefined : fieldPrefix ? `${fieldPrefix}/${f}`.replace(/\/$/, '') : f);
  if (err instanceof ValidationError) return new WsError('invalid_message', err.message, field(err.field));
  if (err instanceof ApiError) {
    if (err.status === 401) return unauthorized(err.code, err.message, err.field);
    if (err.status === 403) return forbidden(err.message, err.field);
    return new WsError(err.code, err.message, field(err.field));
  }
  return new WsError('internal', 'internal error');
}
