import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { EVENT_STREAM, type WebhookDelivery } from '@lookout/contracts';
import { backoffDelay, type Counter, type Histogram, type Logger } from '@lookout/service-kit';
import type { DeliveryLog } from './delivery-log.js';
import { eventBody, matches, readEvent, type HookEvent } from './event.js';
import type { SendResult, WebhookSender } from './sender.js';
import { signedHeaders } from './signature.js';
import { consumerName, type HookRecord, type HookStore } from './store.js';

export interface DeliverySettings {
  maxAttempts: number;
  disableAfter: number;
  backoffMs: number;
  backoffMaxMs: number;
  concurrency: number;
}

export interface WorkerDeps {
  js: JetStreamClient;
  store: HookStore;
  deliveries: DeliveryLog;
  sender: WebhookSender;
  settings: DeliverySettings;
  log: Logger;
  metrics: { deliveries: Counter<'outcome'>; durationMs: Histogram; disabled: Counter; badEvents: Counter<'subject_kind' | 'reason'> };
}

const RETRY_PULL_MS = 2000;

/**
 * Pulls one hook's durable consumer and delivers its events, `concurrency` at a time.
 * Every gateway runs one per enabled hook; the server hands each message to one of them,
 * so instances share the work and keep nothing another would need: progress is the
 * consumer's, the attempt number is the message's delivery count, and failures are
 * counted in the registration.
 */
export class HookWorker {
  private readonly halt = new AbortController();
  private readonly abort = new AbortController();
  private readonly inflight = new Set<Promise<void>>();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly d: WorkerDeps,
    private record: HookRecord,
  ) {}

  /** The latest registration (watched from KV). */
  update(record: HookRecord): void {
    this.record = record;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops pulling; `abortInFlight` also cancels requests under way (they are redelivered). */
  async stop(abortInFlight: boolean): Promise<void> {
    this.halt.abort();
    if (abortInFlight) this.abort.abort();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await Promise.allSettled([...this.inflight]);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.halt.signal.aborted) {
      try {
        await this.pull();
        failures = 0;
      } catch (err) {
        if (this.halt.signal.aborted) break;
        // Once per outage (and then every minute or so), not every retry.
        if (failures++ % 30 === 0) this.d.log.warn({ err, hook: this.record.id, failures }, 'webhook consumer unavailable; retrying');
      }
      await sleep(RETRY_PULL_MS, undefined, { signal: this.halt.signal }).catch(() => undefined);
    }
  }

  private async pull(): Promise<void> {
    const consumer = await this.d.js.consumers.get(EVENT_STREAM.name, consumerName(this.record.id));
    const messages = await consumer.consume({ max_messages: this.d.settings.concurrency, abort_on_missing_resource: true });
    this.messages = messages;
    if (this.halt.signal.aborted) await messages.close();
    for await (const m of messages) {
      // Fetched but not started when the hook stopped: hand it back now, not after ack_wait.
      if (this.halt.signal.aborted) {
        m.nak();
        continue;
      }
      while (this.inflight.size >= this.d.settings.concurrency) await Promise.race(this.inflight);
      const p: Promise<void> = this.handle(m)
        .catch((err: unknown) => this.d.log.error({ err, hook: this.record.id }, 'webhook delivery failed unexpectedly'))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    let event: HookEvent;
    try {
      event = readEvent(m);
    } catch (err) {
      // Nothing a retry could fix; count it like every other boundary does.
      this.d.metrics.badEvents.inc({ subject_kind: 'webhook_event', reason: 'invalid' });
      this.d.log.warn({ subject: m.subject, seq: m.seq, error: (err as Error).message }, 'dropped an event a webhook cannot send');
      m.term();
      return;
    }
    const hook = this.record;
    if (!matches(hook, event)) return void m.ack();
    const body = eventBody(event);
    const result = await this.d.sender.post(hook.url, body, signedHeaders(hook.secret, event.id, body), this.abort.signal);
    // Cancelled by shutdown: not the receiver's failure; another gateway delivers it.
    if (this.abort.signal.aborted) return void m.nak();
    const attempt = m.info.deliveryCount;
    const outcome = result.ok ? 'delivered' : attempt >= this.d.settings.maxAttempts ? 'given_up' : 'retry';
    if (outcome === 'delivered') m.ack();
    else if (outcome === 'retry') m.nak(backoffDelay(attempt, this.d.settings.backoffMs, this.d.settings.backoffMaxMs));
    else m.term();
    this.note(hook, event, attempt, outcome, result);
    await this.account(hook, result);
  }

  private note(hook: HookRecord, event: HookEvent, attempt: number, outcome: WebhookDelivery['outcome'], r: SendResult): void {
    this.d.metrics.deliveries.inc({ outcome });
    this.d.metrics.durationMs.observe(r.durationMs);
    const entry: WebhookDelivery = { eventId: event.id, type: event.type, subject: event.subject, attempt, atMs: Date.now(), ok: r.ok, outcome, durationMs: r.durationMs };
    if (r.status !== undefined) entry.status = r.status;
    if (r.error !== undefined) entry.error = r.error;
    this.d.deliveries.add(hook.id, entry);
    if (outcome === 'given_up') this.d.log.warn({ hook: hook.id, eventId: event.id, attempt, status: r.status, error: r.error }, 'webhook delivery given up');
  }

  /** Consecutive failures live in the registration (CAS), shared by every gateway. */
  private async account(hook: HookRecord, r: SendResult): Promise<void> {
    if (r.ok) {
      if (hook.consecutiveFailures === 0) return;
      await this.d.store.mutate(hook.id, (cur) => (cur.consecutiveFailures === 0 ? undefined : { ...cur, consecutiveFailures: 0 }));
      return;
    }
    const why = r.status !== undefined ? `HTTP ${r.status}` : (r.error ?? 'failed');
    let disabledNow = false;
    await this.d.store.mutate(hook.id, (cur) => {
      disabledNow = false;
      const failures = cur.consecutiveFailures + 1;
      if (!cur.enabled || failures < this.d.settings.disableAfter) return { ...cur, consecutiveFailures: failures };
      disabledNow = true;
      return { ...cur, consecutiveFailures: failures, enabled: false, disabledMs: Date.now(), disabledReason: `${failures} consecutive failed deliveries (last: ${why})` };
    });
    if (disabledNow) {
      this.d.metrics.disabled.inc();
      this.d.log.warn({ hook: hook.id, failures: this.d.settings.disableAfter, last: why }, 'webhook disabled after repeated failures');
    }
  }
}
