import { Type } from '@sinclair/typebox';
import { WebhookCreate, WebhookDelivery, WebhookInfo, type WebhookCreate as Create } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import type { WebhookRegistry } from './registry.js';

const Hook = Type.Object({ id: Type.String() });
const tag = 'webhooks';

/** Webhooks: register, list, inspect, delete, re-enable, and the delivery log. Admin only. */
export function registerWebhookRoutes(api: ApiRouter, webhooks: WebhookRegistry): void {
  api.route({ method: 'post', path: '/webhooks', tag, summary: 'Register a webhook: URL, event filter and signing secret (receives events stored from now on)', access: 'admin', body: WebhookCreate, response: WebhookInfo, status: 201 }, (req) =>
    webhooks.register(req.body as Create),
  );

  api.route({ method: 'get', path: '/webhooks', tag, summary: 'List webhooks (secrets are never returned)', access: 'admin', response: Type.Object({ webhooks: Type.Array(WebhookInfo) }) }, async () => ({
    webhooks: await webhooks.list(),
  }));

  api.route({ method: 'get', path: '/webhooks/:hook', tag, summary: 'A webhook: filter, state, consecutive failures', access: 'admin', response: WebhookInfo }, (req) => webhooks.get(String(req.params.hook)));

  api.route({ method: 'delete', path: '/webhooks/:hook', tag, summary: 'Delete a webhook, its consumer and its delivery log', access: 'admin', response: Hook }, async (req) => {
    const id = String(req.params.hook);
    await webhooks.remove(id);
    return { id };
  });

  api.route({ method: 'post', path: '/webhooks/:hook/enable', tag, summary: 'Re-enable a webhook (after it was disabled for failing); resets its failure count', access: 'admin', response: WebhookInfo }, (req) =>
    webhooks.enable(String(req.params.hook)),
  );

  api.route(
    { method: 'get', path: '/webhooks/:hook/deliveries', tag, summary: `The latest delivery attempts of a webhook, oldest first`, access: 'admin', response: Type.Object({ id: Type.String(), deliveries: Type.Array(WebhookDelivery) }) },
    (req) => webhooks.deliveries(String(req.params.hook)),
  );
}
