import { jetstream } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Histogram, type Logger, type Registry } from '@lookout/service-kit';
import type { GatewayConfig } from '../config.js';
import { DeliveryLog } from './delivery-log.js';
import type { DestinationPolicy } from './destination.js';
import { HookWorker, type WorkerDeps } from './hook-worker.js';
import { WebhookSender } from './sender.js';
import { hookRecord, type HookRecord, type HookStore } from './store.js';

type Watch = Awaited<ReturnType<HookStore['watch']>>;

export interface DispatcherOptions {
  nc: NatsConnection;
  /** The registrations (shared with the REST API's WebhookRegistry). */
  store: HookStore;
  /** Where deliveries may go (shared with the REST API, which checks at registration). */
  policy: DestinationPolicy;
  /** `lookout_webhook_log`. */
  deliveryLog: KV;
  config: Pick<GatewayConfig, 'webhookTimeoutMs' | 'webhookMaxAttempts' | 'webhookDisableAfter' | 'webhookBackoffMs' | 'webhookBackoffMaxMs' | 'webhookConcurrency'>;
  metrics: Registry;
  badMessages: WorkerDeps['metrics']['badEvents'];
  log: Logger;
}

/**
 * Delivers events to webhooks. Follows the registrations in KV with a watch and runs a
 * HookWorker for each enabled hook; a hook that gets disabled (here or on another
 * gateway) or deleted stops being pulled within a watch round trip. Its consumer is kept
 * while disabled, so re-enabling resumes where it stopped.
 */
export class WebhookDispatcher {
  private readonly workers = new Map<string, HookWorker>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly deps: WorkerDeps;
  private readonly sender: WebhookSender;
  private watch: Watch | undefined;
  private following: Promise<void> | undefined;

  constructor(private readonly g: DispatcherOptions) {
    const c = g.config;
    this.sender = new WebhookSender(g.policy, c.webhookTimeoutMs);
    const log = g.log.child({ module: 'webhooks' });
    this.deps = {
      js: jetstream(g.nc),
      store: g.store,
      deliveries: new DeliveryLog(g.deliveryLog, log),
      sender: this.sender,
      settings: { maxAttempts: c.webhookMaxAttempts, disableAfter: c.webhookDisableAfter, backoffMs: c.webhookBackoffMs, backoffMaxMs: c.webhookBackoffMaxMs, concurrency: c.webhookConcurrency },
      log,
      metrics: {
        deliveries: new Counter({ name: 'lookout_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome (delivered, retry, given_up)', labelNames: ['outcome'], registers: [g.metrics] }),
        durationMs: new Histogram({ name: 'lookout_webhook_delivery_ms', help: 'Duration of one webhook delivery attempt', buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000], registers: [g.metrics] }),
        disabled: new Counter({ name: 'lookout_webhooks_disabled_total', help: 'Webhooks disabled after repeated failed deliveries', registers: [g.metrics] }),
        badEvents: g.badMessages,
      },
    };
  }

  async start(): Promise<void> {
    const watch = await this.g.store.watch();
    this.watch = watch;
    this.following = (async () => {
      for await (const e of watch) this.apply(e);
    })().catch((err: unknown) => this.deps.log.error({ err }, 'webhook registrations watch ended'));
  }

  private apply(e: KvWatchEntry): void {
    if (e.operation !== 'PUT') return this.retire(e.key, true);
    let r: HookRecord;
    try {
      r = hookRecord.parse(e.json()) as HookRecord;
    } catch (err) {
      this.g.badMessages.inc({ subject_kind: 'webhook_record', reason: 'invalid' });
      this.deps.log.warn({ key: e.key, error: (err as Error).message }, 'ignored an invalid webhook registration');
      return this.retire(e.key, true);
    }
    const w = this.workers.get(r.id);
    if (!r.enabled) return this.retire(r.id, false);
    if (w) return w.update(r);
    const worker = new HookWorker(this.deps, r);
    this.workers.set(r.id, worker);
    worker.start();
    this.deps.log.info({ hook: r.id }, 'delivering webhook');
  }

  /** Disabled: let requests under way finish. Deleted: cancel them (nobody wants them). */
  private retire(id: string, deleted: boolean): void {
    const w = this.workers.get(id);
    if (!w) return;
    this.workers.delete(id);
    this.deps.log.info({ hook: id, deleted }, 'stopped delivering webhook');
    const stopping: Promise<void> = w.stop(deleted).finally(() => this.retiring.delete(stopping));
    this.retiring.add(stopping);
  }

  async stop(): Promise<void> {
    this.watch?.stop();
    await this.following;
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all([...workers.map((w) => w.stop(true)), ...this.retiring]);
    await this.deps.deliveries.flush();
    this.sender.close();
  }
}
