import os from 'node:os';
import type http from 'node:http';
import type { Static, TObject } from '@sinclair/typebox';
import type { Counter, Registry } from 'prom-client';
import { loadConfig, type CommonConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { badMessageCounter, createMetrics } from './metrics.js';
import { connectNats, type NatsConnection } from './nats.js';
import { natsCredentials } from './nats-credentials.js';
import { closeHttp, createHealthHandler, listenHttp, sendJson, type ReadinessCheck } from './http.js';
import { exitAfter, Lifecycle } from './lifecycle.js';
import { RpcServer, rpcMetrics } from './rpc.js';
import type { StorageOptions } from './storage.js';
import type { ServiceName } from '@lookout/contracts';

type Common = { [K in keyof typeof CommonConfig]: Static<(typeof CommonConfig)[K]> } & { httpPort: number };

export interface ServiceOptions<T extends TObject> {
  /** Service name: logger name, metric label, NATS client name prefix, store ownership. */
  name: ServiceName;
  config: T;
  env?: NodeJS.ProcessEnv;
  /**
   * 'own' (default): serve /healthz, /readyz, /metrics on config.httpPort.
   * 'host': the service serves them on its own HTTP server via `healthHandler`.
   */
  http?: 'own' | 'host';
}

/** What a service's main.ts composes its modules from. */
export interface ServiceContext<C> {
  readonly name: string;
  readonly instance: string;
  readonly config: C;
  readonly log: Logger;
  readonly metrics: Registry;
  readonly nc: NatsConnection;
  /** lookout_bad_messages_total{subject_kind, reason} */
  readonly badMessages: Counter<'subject_kind' | 'reason'>;
  readonly lifecycle: Lifecycle;
  /** Answers the operations this service serves (contracts rpc.ts). */
  readonly rpc: RpcServer;
  /** For openKv/openKvs/ensureStore: this service, JETSTREAM_REPLICAS, the logger. */
  readonly storage: StorageOptions;
  /** Health endpoints for a service that hosts its own HTTP server; returns true if handled. */
  readonly healthHandler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Port of the kit's own health server (undefined in 'host' mode). */
  readonly httpPort: number | undefined;
  addReadiness(name: string, check: ReadinessCheck): void;
  onShutdown(name: string, close: () => Promise<void> | void): void;
  /**
   * Call once every module is wired: flushes NATS so the server has seen every
   * subscription, then turns /readyz green and logs "ready" with `details`.
   */
  ready(details?: Record<string, unknown>): Promise<void>;
}

/**
 * Config → logger → metrics → NATS → health HTTP → signal handling. Shutdown closes in
 * reverse: modules the service registered, then NATS is drained, then HTTP closes.
 */
export async function startService<T extends TObject>(opts: ServiceOptions<T>): Promise<ServiceContext<Static<T> & Common>> {
  const config = loadConfig(opts.config, opts.env) as Static<T> & Common;
  // Instance ids end up in NATS subjects and KV keys: keep the default to the id alphabet.
  const instance = config.instanceId ?? `${opts.name}-${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  const log = createLogger(opts.name, config.logLevel, instance);
  const lifecycle = new Lifecycle(log, config.shutdownTimeoutMs);
  const metrics = createMetrics(opts.name, instance);
  const checks = new Map<string, ReadinessCheck>();
  const healthHandler = createHealthHandler({ registry: metrics, checks, accepting: () => !lifecycle.shuttingDown });

  process.on('uncaughtException', (err) => exitAfter(1, () => log.fatal({ err }, 'uncaught exception')));
  process.on('unhandledRejection', (err) => exitAfter(1, () => log.fatal({ err }, 'unhandled rejection')));

  let httpPort: number | undefined;
  if ((opts.http ?? 'own') === 'own') {
    const { server, port } = await listenHttp(
      (req, res) => {
        if (!healthHandler(req, res)) sendJson(res, 404, { error: 'not_found' });
      },
      config.httpPort,
      config.httpHost,
    );
    httpPort = port;
    lifecycle.onShutdown('http', () => closeHttp(server));
    log.info({ port, host: config.httpHost }, 'health server listening');
  }

  let started = false;
  checks.set('started', () => started);
  const credentials = natsCredentials(config);
  const link = await connectNats({ servers: config.natsUrl, name: instance, log, ...(credentials ?? {}) });
  checks.set('nats', link.connected);
  lifecycle.onShutdown('nats', async () => {
    if (!link.nc.isClosed()) await link.nc.drain();
  });
  lifecycle.installSignalHandlers();

  const badMessages = badMessageCounter(metrics);
  return {
    name: opts.name,
    instance,
    config,
    log,
    metrics,
    nc: link.nc,
    badMessages,
    lifecycle,
    rpc: new RpcServer({ nc: link.nc, log: log.child({ module: 'rpc' }), metrics: rpcMetrics(metrics, badMessages) }),
    storage: { service: opts.name, replicas: config.jetstreamReplicas, log: log.child({ module: 'storage' }) },
    healthHandler,
    httpPort,
    addReadiness: (name, check) => checks.set(name, check),
    onShutdown: (name, close) => lifecycle.onShutdown(name, close),
    async ready(details) {
      await link.nc.flush();
      started = true;
      log.info({ ...details, httpPort }, 'ready');
    },
  };
}
