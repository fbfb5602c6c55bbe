import type { KV } from '@nats-io/kv';
import { Counter, type Logger, type Registry } from '@lookout/service-kit';
import { AuthThrottle } from './auth-throttle.js';
import { SharedBuckets } from './shared-buckets.js';

/**
 * The gateway's two shared budgets, both in the rateLimits KV bucket: requests per
 * credential (`req.*`) and refused credentials per client address (`auth.*`). When NATS
 * does not answer, a replica decides alone (fail-open to per-replica limits, see
 * shared-buckets.ts), counts it in lookout_gateway_rate_limit_fallbacks_total and says so
 * in the log at most once a minute.
 */
export async function createLimits(o: { kv: KV; requestsPerMinute: number; authFailuresPerMinute: number; metrics: Registry; log: Logger }): Promise<{ limiter: SharedBuckets; throttle: AuthThrottle }> {
  const fallbacks = new Counter({
    name: 'lookout_gateway_rate_limit_fallbacks_total',
    help: 'Rate-limit decisions this replica took alone because the shared budget in NATS did not answer, by budget',
    labelNames: ['budget'],
    registers: [o.metrics],
  });
  let lastLog = 0;
  const onFallback = (budget: 'requests' | 'auth_failures') => {
    fallbacks.inc({ budget }, 0);
    return (err: Error) => {
      fallbacks.inc({ budget });
      if (Date.now() - lastLog < 60_000) return;
      lastLog = Date.now();
      o.log.warn({ budget, error: err.message }, 'shared rate limit unavailable: this replica counts alone');
    };
  };
  const limiter = new SharedBuckets(o.kv, { capacity: o.requestsPerMinute, prefix: 'req', onFallback: onFallback('requests') });
  const throttle = new AuthThrottle(new SharedBuckets(o.kv, { capacity: o.authFailuresPerMinute, prefix: 'auth', onFallback: onFallback('auth_failures') }));
  await throttle.start();
  return { limiter, throttle };
}
