import { Type, type Static } from '@sinclair/typebox';
import type { KV } from '@nats-io/kv';
import { AckPolicy, DeliverPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { subjects, validator, WebhookInfo, type StreamSubjectKind, type WebhookEventType } from '@lookout/contracts';
import { byCodeUnits } from '@lookout/service-kit';

/** A registration as stored in `lookout_webhooks` (the secret included; never served). */
export const HookRecord = Type.Intersect([WebhookInfo, Type.Object({ secret: Type.String({ minLength: 1 }) })]);
export type HookRecord = Static<typeof HookRecord> & { events: WebhookEventType[] };
export const hookRecord = validator('webhook record', HookRecord);

/** The event types' subject kinds in LOOKOUT_EVENTS. */
export const SUBJECT_KIND: Record<WebhookEventType, StreamSubjectKind> = { alert: 'alerts', recognition: 'recognitions', metrics: 'metrics' };

/** The durable pull consumer of a hook: one per hook, so each hook has its own progress. */
export const consumerName = (hookId: string) => `webhook_${hookId}`;

/**
 * The hook's consumer. nats-server 2.9 takes one `filter_subject`, a subset of a stream
 * subject: a hook for one event type (and at most one room) gets the server to filter;
 * otherwise the consumer sees every event and the dispatcher acks the ones the hook does
 * not want (cheap: no HTTP call, no log entry).
 *
 * `deliver_policy: new`: a hook receives events stored after it was registered.
 * `max_deliver: -1`: the dispatcher counts attempts (the delivery count) and terminates
 * the message itself after WEBHOOK_MAX_ATTEMPTS, logging it; a server-side limit would
 * drop the last attempt silently.
 */
export function consumerConfig(r: Pick<HookRecord, 'id' | 'events' | 'rooms'>, ackWaitMs: number): Partial<ConsumerConfig> {
  const first = r.events[0];
  const room = r.rooms?.length === 1 ? r.rooms[0] : undefined;
  const filter = r.events.length === 1 && first ? (room ? subjects.roomStreams(SUBJECT_KIND[first], room) : subjects.all(SUBJECT_KIND[first])) : undefined;
  return {
    durable_name: consumerName(r.id),
    description: `Lookout webhook ${r.id}`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: -1,
    max_ack_pending: 1000,
    ...(filter ? { filter_subject: filter } : {}),
  };
}

/**
 * How long the server waits for an ack before redelivering. A message can sit in the
 * puller's buffer while a round of deliveries is under way, then take its own attempt:
 * three delivery timeouts cover both, with a floor for short timeouts.
 */
export const ackWaitMs = (timeoutMs: number) => Math.max(30_000, 3 * timeoutMs);

/** The public view: everything but the secret. */
export function toInfo(r: HookRecord): WebhookInfo {
  const { secret: _secret, ...info } = r;
  return info;
}

const CAS_TRIES = 20;

/**
 * Registrations in KV. Every change is a compare-and-set on the entry's revision, so two
 * gateways counting failures of the same hook at once never lose an update.
 */
export class HookStore {
  constructor(private readonly kv: KV) {}

  async get(id: string): Promise<{ record: HookRecord; revision: number } | undefined> {
    const e = await this.kv.get(id);
    if (!e || e.operation !== 'PUT') return undefined;
    return { record: hookRecord.parse(e.json()) as HookRecord, revision: e.revision };
  }

  async list(): Promise<HookRecord[]> {
    const out: HookRecord[] = [];
    for await (const key of await this.kv.keys()) {
      const got = await this.get(key).catch(() => undefined);
      if (got) out.push(got.record);
    }
    return out.sort((a, b) => a.createdMs - b.createdMs || byCodeUnits(a.id, b.id));
  }

  /** Stores a new registration; throws if the id exists. */
  async create(r: HookRecord): Promise<void> {
    await this.kv.create(r.id, JSON.stringify(hookRecord.parse(r)));
  }

  /**
   * Applies `change` to the current record and writes it if nobody wrote in between
   * (else re-reads and retries). `change` returns undefined for "nothing to write".
   * Resolves with the record as stored, or undefined when the hook does not exist.
   */
  async mutate(id: string, change: (r: HookRecord) => HookRecord | undefined): Promise<HookRecord | undefined> {
    for (let i = 0; i < CAS_TRIES; i++) {
      const cur = await this.get(id);
      if (!cur) return undefined;
      const next = change(structuredClone(cur.record));
      if (!next) return cur.record;
      try {
        await this.kv.update(id, JSON.stringify(next), cur.revision);
        return next;
      } catch (err) {
        if (!/wrong last sequence|revision/i.test((err as Error).message)) throw err;
      }
    }
    throw new Error(`webhook ${id}: too many concurrent updates`);
  }

  async remove(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  /** Every registration, then every change to one (the dispatcher follows it). */
  watch(): ReturnType<KV['watch']> {
    return this.kv.watch();
  }
}
