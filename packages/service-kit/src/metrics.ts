import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';

export { Registry, Counter, Gauge, Histogram };

/** A registry per service, with process metrics and a `service` default label. */
export function createMetrics(service: string, instance: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, instance });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Counter of messages a worker refused. Every service counts bad input through this
 * one metric so dashboards and alerts need a single query.
 */
export function badMessageCounter(registry: Registry): Counter<'subject_kind' | 'reason'> {
  return new Counter({
    name: 'lookout_bad_messages_total',
    help: 'Messages rejected at a boundary, by kind of subject and reason',
    labelNames: ['subject_kind', 'reason'],
    registers: [registry],
  });
}
