import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { EVENT_STREAM, WebhookCreate, WebhookDelivery, WebhookInfo, type WebhookCreate as Create } from '@lookout/contracts';
import type { GatewayDeps } from '../deps.js';
import type { ApiRouter } from '../http/api-router.js';
import { ApiError, notFound } from '../http/errors.js';
import { readDeliveries } from '../webhooks/delivery-log.js';
import { DestinationError, DestinationPolicy } from '../webhooks/destination.js';
import { ackWaitMs, consumerConfig, consumerName, HookStore, toInfo, type HookRecord } from '../webhooks/store.js';

const Hook = Type.Object({ id: Type.String() });

/**
 * Webhooks: register (URL, event filter, secret), list, inspect, delete, re-enable, and
 * read the delivery log. Registering creates the hook's durable consumer on
 * LOOKOUT_EVENTS; the WebhookDispatcher of every gateway delivers from it.
 */
export function registerWebhookRoutes(api: ApiRouter, d: GatewayDeps): void {
  const store = new HookStore(d.kv.webhooks);
  const policy = new DestinationPolicy(d.config.webhookAllowHosts);
  let jsm: Promise<JetStreamManager> | undefined;
  const manager = () => (jsm ??= jetstreamManager(d.nc).catch((err: unknown) => ((jsm = undefined), Promise.reject(err))));
  const find = async (id: string) => {
    const got = await store.get(id);
    if (!got) throw notFound(`hook: no webhook ${id}`, 'hook');
    return got.record;
  };

  api.route({ method: 'post', path: '/webhooks', tag: 'webhooks', summary: 'Register a webhook: URL, event filter and signing secret (receives events stored from now on)', access: 'admin', body: WebhookCreate, response: WebhookInfo, status: 201 }, async (req) => {
    const body = req.body as Create;
    await checkDestination(policy, body.url);
    const record: HookRecord = {
      id: `wh_${randomBytes(12).toString('base64url')}`,
      url: body.url,
      events: body.events,
      ...(body.alertKinds ? { alertKinds: body.alertKinds } : {}),
      ...(body.rooms ? { rooms: body.rooms } : {}),
      secret: body.secret,
      enabled: true,
      consecutiveFailures: 0,
      createdMs: Date.now(),
    };
    const m = await manager();
    // Consumer first: a crash before the registration is written leaves an idle consumer,
    // never a registration that no consumer feeds.
    await m.consumers.add(EVENT_STREAM.name, consumerConfig(record, ackWaitMs(d.config.webhookTimeoutMs))).catch((err: Error) => {
      if (/stream not found/i.test(err.message)) throw new ApiError(503, 'events_unavailable', `events: the ${EVENT_STREAM.name} stream does not exist yet (it is created by reid)`);
      throw err;
    });
    await store.create(record).catch(async (err: unknown) => {
      await m.consumers.delete(EVENT_STREAM.name, consumerName(record.id)).catch(() => undefined);
      throw err;
    });
    d.log.info({ hook: record.id, events: record.events }, 'webhook registered');
    return toInfo(record);
  });

  api.route({ method: 'get', path: '/webhooks', tag: 'webhooks', summary: 'List webhooks (secrets are never returned)', access: 'admin', response: Type.Object({ webhooks: Type.Array(WebhookInfo) }) }, async () => ({
    webhooks: (await store.list()).map(toInfo),
  }));

  api.route({ method: 'get', path: '/webhooks/:hook', tag: 'webhooks', summary: 'A webhook: filter, state, consecutive failures', access: 'admin', response: WebhookInfo }, async (req) => toInfo(await find(String(req.params.hook))));

  api.route({ method: 'delete', path: '/webhooks/:hook', tag: 'webhooks', summary: 'Delete a webhook, its consumer and its delivery log', access: 'admin', response: Hook }, async (req) => {
    const id = (await find(String(req.params.hook))).id;
    // Registration first: every gateway stops pulling when it sees it go.
    await store.remove(id);
    await (await manager()).consumers.delete(EVENT_STREAM.name, consumerName(id)).catch((err: Error) => {
      if (!/not found/i.test(err.message)) throw err;
    });
    await d.kv.webhookLog.delete(id);
    d.log.info({ hook: id }, 'webhook deleted');
    return { id };
  });

  api.route({ method: 'post', path: '/webhooks/:hook/enable', tag: 'webhooks', summary: 'Re-enable a webhook (after it was disabled for failing); resets its failure count', access: 'admin', response: WebhookInfo }, async (req) => {
    const id = String(req.params.hook);
    const r = await store.mutate(id, (cur) => {
      const { disabledReason: _reason, disabledMs: _since, ...rest } = cur;
      return cur.enabled && cur.consecutiveFailures === 0 ? undefined : { ...rest, enabled: true, consecutiveFailures: 0 };
    });
    if (!r) throw notFound(`hook: no webhook ${id}`, 'hook');
    return toInfo(r);
  });

  api.route(
    { method: 'get', path: '/webhooks/:hook/deliveries', tag: 'webhooks', summary: `The latest delivery attempts of a webhook, oldest first`, access: 'admin', response: Type.Object({ id: Type.String(), deliveries: Type.Array(WebhookDelivery) }) },
    async (req) => {
      const id = (await find(String(req.params.hook))).id;
      return { id, deliveries: await readDeliveries(d.kv.webhookLog, id) };
    },
  );
}

async function checkDestination(policy: DestinationPolicy, url: string): Promise<void> {
  try {
    await policy.checkUrl(url);
  } catch (err) {
    if (err instanceof DestinationError) throw new ApiError(422, err.code, err.message, 'url');
    throw err;
  }
}
