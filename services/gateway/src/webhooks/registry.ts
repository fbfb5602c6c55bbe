import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENT_STREAM, LookoutError, notFound, type WebhookCreate, type WebhookDelivery, type WebhookInfo } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { readDeliveries } from './delivery-log.js';
import type { DestinationPolicy } from './destination.js';
import { ackWaitMs, consumerConfig, consumerName, toInfo, type HookRecord, type HookStore } from './store.js';

export interface WebhookRegistryOptions {
  nc: NatsConnection;
  store: HookStore;
  policy: DestinationPolicy;
  /** `lookout_webhook_log`: each hook's latest deliveries. */
  deliveryLog: KV;
  /** WEBHOOK_TIMEOUT_MS: a delivery's deadline, which the consumer's ack wait must outlast. */
  timeoutMs: number;
  log: Logger;
}

/**
 * Webhook registrations: register (URL, event filter, secret), list, inspect, delete,
 * re-enable, and the delivery log. Registering creates the hook's durable consumer on
 * LOOKOUT_EVENTS; the WebhookDispatcher of every gateway delivers from it.
 */
export class WebhookRegistry {
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(private readonly o: WebhookRegistryOptions) {}

  async register(request: WebhookCreate): Promise<WebhookInfo> {
    await this.o.policy.checkUrl(request.url);
    const record: HookRecord = {
      id: `wh_${randomBytes(12).toString('base64url')}`,
      url: request.url,
      events: request.events,
      ...(request.alertKinds ? { alertKinds: request.alertKinds } : {}),
      ...(request.rooms ? { rooms: request.rooms } : {}),
      secret: request.secret,
      enabled: true,
      consecutiveFailures: 0,
      createdMs: Date.now(),
    };
    const m = await this.manager();
    // Consumer first: a crash before the registration is written leaves an idle consumer,
    // never a registration that no consumer feeds.
    await m.consumers.add(EVENT_STREAM.name, consumerConfig(record, ackWaitMs(this.o.timeoutMs))).catch((err: Error) => {
      if (/stream not found/i.test(err.message)) throw new LookoutError('events_unavailable', `events: the ${EVENT_STREAM.name} stream does not exist`);
      throw err;
    });
    await this.o.store.create(record).catch(async (err: unknown) => {
      await m.consumers.delete(EVENT_STREAM.name, consumerName(record.id)).catch(() => undefined);
      throw err;
    });
    this.o.log.info({ hook: record.id, events: record.events }, 'webhook registered');
    return toInfo(record);
  }

  async list(): Promise<WebhookInfo[]> {
    return (await this.o.store.list()).map(toInfo);
  }

  async get(id: string): Promise<WebhookInfo> {
    return toInfo(await this.find(id));
  }

  /** Deletes the registration, its consumer and its delivery log. */
  async remove(id: string): Promise<void> {
    const hook = (await this.find(id)).id;
    // Registration first: every gateway stops pulling when it sees it go.
    await this.o.store.remove(hook);
    await (await this.manager()).consumers.delete(EVENT_STREAM.name, consumerName(hook)).catch((err: Error) => {
      if (!/not found/i.test(err.message)) throw err;
    });
    await this.o.deliveryLog.delete(hook);
    this.o.log.info({ hook }, 'webhook deleted');
  }

  /** Re-enables a hook (after it was disabled for failing) and resets its failure count. */
  async enable(id: string): Promise<WebhookInfo> {
    const r = await this.o.store.mutate(id, (cur) => {
      const { disabledReason: _reason, disabledMs: _since, ...rest } = cur;
      return cur.enabled && cur.consecutiveFailures === 0 ? undefined : { ...rest, enabled: true, consecutiveFailures: 0 };
    });
    if (!r) throw notFound(`hook: no webhook ${id}`, 'hook');
    return toInfo(r);
  }

  async deliveries(id: string): Promise<{ id: string; deliveries: WebhookDelivery[] }> {
    const hook = (await this.find(id)).id;
    return { id: hook, deliveries: await readDeliveries(this.o.deliveryLog, hook) };
  }

  private async find(id: string): Promise<HookRecord> {
    const got = await this.o.store.get(id);
    if (!got) throw notFound(`hook: no webhook ${id}`, 'hook');
    return got.record;
  }

  private manager(): Promise<JetStreamManager> {
    return (this.jsm ??= jetstreamManager(this.o.nc).catch((err: unknown) => ((this.jsm = undefined), Promise.reject(err))));
  }
}
