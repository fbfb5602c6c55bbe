import type { NextFunction, Request, Response } from 'express';
import { LookoutError, type ErrorBody } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { ERROR_STATUS } from './error-status.js';

/** What a REST client receives for an error. */
export interface HttpError {
  status: number;
  body: { error: ErrorBody & Record<string, unknown> };
}

/** body-parser's and Express's own errors as LookoutErrors; any other 4xx they raise (an aborted or malformed request) is `bad_request`. */
function fromExpress(err: Error & { type?: string; status?: number; limit?: number }): LookoutError | undefined {
  if (err.type === 'entity.too.large') return new LookoutError('body_too_large', `body: larger than the limit of ${err.limit} bytes`);
  if (err.type === 'entity.parse.failed') return new LookoutError('invalid_json', 'body: not valid JSON');
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') return new LookoutError('unsupported_encoding', err.message);
  if (err.status && err.status >= 400 && err.status < 500) return new LookoutError('bad_request', err.message);
  return undefined;
}

/**
 * The REST form of an error: `{ error: { code, message, field?, ... } }` with the status of
 * its code. A code's details sit beside code and message (no_usable_image's per-image
 * `images`, where REST clients have always read them). Anything that is not a LookoutError
 * is a bug: 500, `internal`, and the caller logs it.
 */
export function toHttpError(err: unknown): HttpError {
  const e = err instanceof LookoutError ? err : fromExpress(err as Error);
  if (!e) return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
  const error: HttpError['body']['error'] = { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  for (const [k, v] of Object.entries(e.details ?? {})) if (!(k in error)) error[k] = v;
  return { status: ERROR_STATUS[e.code], body: { error } };
}

/** The last middleware: every error becomes its REST form (toHttpError). */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, body } = toHttpError(err);
    if (status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(status).json(body);
  };
}

export function routeNotFound(req: Request, _res: Response, next: NextFunction): void {
  next(new LookoutError('not_found', `no route for ${req.method} ${req.path}`));
}
