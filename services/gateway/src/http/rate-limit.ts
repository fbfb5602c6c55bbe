import type { NextFunction, Request, Response } from 'express';
import { LookoutError } from '@lookout/contracts';

/**
 * Per-credential rate limit: a token bucket of `perMinute` requests refilled continuously.
 * Buckets live in this process, so with N gateways behind a load balancer a client gets
 * up to N × the limit; that keeps the hot path free of NATS round trips.
 */
export function rateLimit(perMinute: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = perMinute / 60_000;
  return (req: Request, res: Response, next: NextFunction): void => {
    const p = req.principal;
    if (!p) return next();
    const key = p.kind === 'admin' ? `k:${p.name}` : `t:${p.claims.room}:${p.claims.peer}`;
    const now = Date.now();
    const b = buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * refillPerMs);
    b.at = now;
    buckets.set(key, b);
    if (buckets.size > 100_000) buckets.clear();
    if (b.tokens < 1) {
      res.setHeader('Retry-After', String(Math.ceil((1 - b.tokens) / refillPerMs / 1000)));
      return next(new LookoutError('rate_limited', `rate limit: at most ${perMinute} requests per minute`));
    }
    b.tokens -= 1;
    res.setHeader('X-RateLimit-Remaining', String(Math.floor(b.tokens)));
    next();
  };
}
