import type { KV } from '@nats-io/kv';
import type { WebhookDelivery } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';

/** Attempts kept per hook (oldest dropped first). */
export const LOG_LIMIT = 100;
const FLUSH_MS = 100;
const CAS_TRIES = 20;

/** The stored log of a hook, oldest first; [] when there is none. */
export async function readDeliveries(kv: KV, hookId: string): Promise<WebhookDelivery[]> {
  const e = await kv.get(hookId);
  if (!e || e.operation !== 'PUT') return [];
  const value = e.json<unknown>();
  return Array.isArray(value) ? (value as WebhookDelivery[]) : [];
}

/**
 * Per-hook bounded log of delivery attempts in `lookout_webhook_log` (one entry per hook,
 * a JSON array). Entries are buffered for ~100 ms and appended in one compare-and-set, so
 * a burst of attempts costs a few KV writes, and gateways appending to the same hook at
 * once never drop each other's entries. The buffer is the only in-memory state, and it
 * is flushed on stop.
 */
export class DeliveryLog {
  private readonly pending = new Map<string, WebhookDelivery[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly limit = LOG_LIMIT,
  ) {}

  add(hookId: string, entry: WebhookDelivery): void {
    const list = this.pending.get(hookId) ?? [];
    list.push(entry);
    this.pending.set(hookId, list);
    if (!this.timers.has(hookId)) this.timers.set(hookId, setTimeout(() => void this.flushHook(hookId), FLUSH_MS));
  }

  /** Writes everything buffered. */
  async flush(): Promise<void> {
    await Promise.all([...new Set([...this.pending.keys(), ...this.chains.keys()])].map((id) => this.flushHook(id)));
  }

  /** Writes are chained per hook so this instance never races itself. */
  private flushHook(hookId: string): Promise<void> {
    clearTimeout(this.timers.get(hookId));
    this.timers.delete(hookId);
    const next = (this.chains.get(hookId) ?? Promise.resolve()).then(() => this.write(hookId)).catch((err: unknown) => this.log.warn({ err, hook: hookId }, 'could not write the webhook delivery log'));
    this.chains.set(hookId, next);
    void next.then(() => {
      if (this.chains.get(hookId) === next) this.chains.delete(hookId);
    });
    return next;
  }

  private async write(hookId: string): Promise<void> {
    const entries = this.pending.get(hookId);
    if (!entries?.length) return;
    this.pending.delete(hookId);
    for (let i = 0; i < CAS_TRIES; i++) {
      const cur = await this.kv.get(hookId);
      // A tombstone: the hook was deleted; attempts that finish after that are not kept.
      if (cur && cur.operation !== 'PUT') return;
      const before = cur ? ((cur.json<unknown>() as WebhookDelivery[] | null) ?? []) : [];
      const value = JSON.stringify([...(Array.isArray(before) ? before : []), ...entries].slice(-this.limit));
      try {
        if (cur) await this.kv.update(hookId, value, cur.revision);
        else await this.kv.create(hookId, value);
        return;
      } catch (err) {
        if (!/wrong last sequence|revision|exists/i.test((err as Error).message)) throw err;
      }
    }
    throw new Error('too many concurrent writers');
  }
}
