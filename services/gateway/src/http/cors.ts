import type { NextFunction, Request, Response } from 'express';
import { LookoutError } from '@lookout/contracts';

/**
 * CORS from an allow-list. A request from an origin not on it gets no CORS headers (the
 * browser then refuses the response); preflights from it get 403.
 */
export function cors(spec: string) {
  const origins = new Set(spec.split(',').map((s) => s.trim()).filter(Boolean));
  const any = origins.has('*');
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const allowed = !!origin && (any || origins.has(origin));
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      res.setHeader('Vary', 'Origin');
      // Content-Range and Accept-Ranges: a recording's video is read in ranges (GET /jobs/:job/video).
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After, X-RateLimit-Remaining, Content-Range, Accept-Ranges');
    }
    if (req.method !== 'OPTIONS' || !origin) return next();
    if (!allowed) return next(new LookoutError('cors_forbidden', `origin ${origin} is not allowed`));
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
    // X-File-Name and Content-Disposition name an uploaded recording (POST /jobs); Range reads its video.
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Api-Key, X-File-Name, Content-Disposition, Range');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
