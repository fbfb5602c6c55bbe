import type { FailureThrottle } from './auth.js';
import type { SharedBuckets } from './shared-buckets.js';

/**
 * Refused credentials per client address: `perMinute` guesses (an unknown API key, a
 * forged or malformed token), refilled continuously; past them every credential from
 * that address is refused with 429 until a guess's worth has refilled. The counts live in
 * the shared `auth.*` buckets (shared-buckets.ts), which every replica follows with a
 * watch: checking a request costs no round trip, only a refusal writes. Like the request
 * limit, it falls back to this replica's own count when NATS does not answer.
 */
export class AuthThrottle implements FailureThrottle {
  constructor(private readonly buckets: SharedBuckets) {}

  /** Follows the other replicas' counts. */
  start(): Promise<void> {
    return this.buckets.follow();
  }

  blockedFor(client: string): number {
    const t = this.buckets.peek(client);
    return t.ok ? 0 : t.retryAfterS;
  }

  async failed(client: string): Promise<number> {
    const t = await this.buckets.take(client);
    return t.ok ? 0 : t.retryAfterS;
  }

  stop(): void {
    this.buckets.stop();
  }
}
