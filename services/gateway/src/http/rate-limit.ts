import type { NextFunction, Request, Response } from 'express';
import { LookoutError } from '@lookout/contracts';
import type { Principal } from './auth.js';

/** Takes one request from a caller's budget (SharedBuckets, or LocalBuckets in a test). */
export interface Limiter {
  take(id: string): Promise<{ ok: boolean; remaining: number; retryAfterS: number }> | { ok: boolean; remaining: number; retryAfterS: number };
}

/** Whose budget a request spends: the admin key's name, or the room token's room and peer. */
export const budgetOf = (p: Principal): string => (p.kind === 'admin' ? `k:${p.name}` : `t:${p.claims.room}:${p.claims.peer}`);

/**
 * Per-credential rate limit: `perMinute` requests, refilled continuously. The budget is
 * shared by every gateway replica when `limiter` is the NATS-backed one (shared-buckets.ts:
 * one budget across N replicas; per replica only while NATS does not answer). Requests
 * without a valid credential are not counted here: they are refused anyway, and refused
 * credentials are throttled per client address (auth-throttle.ts).
 */
export function rateLimit(limiter: Limiter, perMinute: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const p = req.principal;
    if (!p) return next();
    Promise.resolve(limiter.take(budgetOf(p)))
      .then((t) => {
        if (!t.ok) {
          res.setHeader('Retry-After', String(t.retryAfterS));
          return next(new LookoutError('rate_limited', `rate limit: at most ${perMinute} requests per minute`));
        }
        res.setHeader('X-RateLimit-Remaining', String(t.remaining));
        next();
      })
      .catch(next);
  };
}
