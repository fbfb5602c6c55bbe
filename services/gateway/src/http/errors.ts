import type { NextFunction, Request, Response } from 'express';
import { LookoutError, type ErrorBody } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { ERROR_STATUS } from './error-status.js';

/** What a REST client receives for an error. */
export interface HttpError {
  status: number;
  body: { error: ErrorBody & Record<string, unknown> };
}

/** body-parser's and Express's own errors, as LookoutErrors (with their 4xx status for the rest). */
function fromExpress(err: Error & { type?: string; status?: number; limit?: number }): { error: LookoutError; status?: number } | undefined {
  if (err.type === 'entity.too.large') return { error: new LookoutError('body_too_large', `body: larger than the limit of ${err.limit} bytes`) };
  if (err.type === 'entity.parse.failed') return { error: new LookoutError('invalid_json', 'body: not valid JSON') };
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') return { error: new LookoutError('unsupported_encoding', err.message) };
  if (err.status && err.status >= 400 && err.status < 500) return { error: new LookoutError('bad_request', err.message), status: err.status };
  return undefined;
}

/**
 * The REST form of an error: `{ error: { code, message, field?, ... } }` with the status of
 * its code. A code's details sit beside code and message (no_usable_image's per-image
 * `images`, where REST clients have always read them). Anything that is not a LookoutError
 * is a bug: 500, `internal`, and the caller logs it.
 */
export function toHttpError(err: unknown): HttpError {
  const known = err instanceof LookoutError ? { error: err } : fromExpress(err as Error);
  if (!known) return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
  const { code, message, field, details } = known.error;
  return { status: known.status ?? ERROR_STATUS[code], body: { error: { ...details, code, message, ...(field ? { field } : {}) } } };
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
