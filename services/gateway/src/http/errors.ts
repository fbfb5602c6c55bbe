import type { NextFunction, Request, Response } from 'express';
import { ValidationError } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';

/** An error with an HTTP status and a stable code; anything thrown in a route may be one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string, field?: string) => new ApiError(404, 'not_found', what, field);

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ValidationError) return new ApiError(400, 'invalid_request', err.message, err.field);
  const e = err as Error & { type?: string; status?: number; limit?: number };
  // body-parser's errors
  if (e.type === 'entity.too.large') return new ApiError(413, 'body_too_large', `body: larger than the limit of ${e.limit} bytes`);
  if (e.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'body: not valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return new ApiError(415, 'unsupported_encoding', e.message);
  if (e.status && e.status >= 400 && e.status < 500) return new ApiError(e.status, 'bad_request', e.message);
  return new ApiError(500, 'internal', 'internal error');
}

/** The last middleware: every error becomes `{ error: { code, message, field? } }`. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const api = toApiError(err);
    if (api.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(api.status).json({ error: { code: api.code, message: api.message, ...(api.field ? { field: api.field } : {}) } });
  };
}

export function routeNotFound(req: Request, _res: Response, next: NextFunction): void {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
}
