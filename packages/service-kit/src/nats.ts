import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

export type { NatsConnection };

export interface NatsOptions {
  servers: string;
  name: string;
  log: Logger;
  user?: string;
  pass?: string;
}

/** A NATS connection plus what readiness needs to know about it. */
export interface NatsLink {
  readonly nc: NatsConnection;
  /** False while disconnected/reconnecting, draining or closed. */
  connected(): boolean;
}

/**
 * Connects with a client name (visible in NATS monitoring) and reconnects forever: a
 * worker that loses NATS should wait for it, not exit and lose its warm models.
 */
export async function connectNats(opts: NatsOptions): Promise<NatsLink> {
  const servers = opts.servers.split(',').map((s) => s.trim()).filter(Boolean);
  const nc = await connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    ...(opts.user !== undefined ? { user: opts.user, pass: opts.pass ?? '' } : {}),
  });
  opts.log.info({ server: nc.getServer() }, 'connected to NATS');
  let up = true;
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          up = false;
          opts.log.warn({ server: s.server }, 'NATS disconnected');
          break;
        case 'reconnect':
          up = true;
          opts.log.info({ server: s.server }, 'NATS reconnected');
          break;
        case 'error':
          opts.log.error({ err: s.error }, 'NATS error');
          break;
        case 'slowConsumer':
          opts.log.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
          break;
        default:
          break;
      }
    }
  })();
  return { nc, connected: () => up && !nc.isClosed() && !nc.isDraining() };
}
