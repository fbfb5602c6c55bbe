// The resilience tests' tools: watching services' readiness and counting analysis.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { RunningService } from '../services.js';
import type { TestWsClient } from '../ws-client.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A test-side NATS client that rides out outages like the services do. */
export function patientConnect(servers: string | string[], name: string): Promise<NatsConnection> {
  return connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2000 });
}

/** GET /readyz → true on 200; false on anything else, a refused connection included. */
export async function isReady(svc: RunningService): Promise<boolean> {
  try {
    return (await svc.get('/readyz')).status === 200;
  } catch {
    return false;
  }
}

/** Polls until `ok()` holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await ok()) return Date.now();
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Samples every service's /readyz every `everyMs` until stopped: when each first went
 * not ready, when each was ready again after that, and whether its process stayed up.
 */
export function watchReadiness(services: ReadonlyMap<string, RunningService>, everyMs = 200) {
  const wentDown = new Map<string, number>();
  const cameBack = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        [...services].map(async ([name, svc]) => {
          const ready = await isReady(svc);
          if (!ready && !wentDown.has(name)) wentDown.set(name, Date.now());
          if (ready && wentDown.has(name) && !cameBack.has(name)) cameBack.set(name, Date.now());
        }),
      );
      await sleep(everyMs);
    }
  })();
  return {
    wentDown,
    cameBack,
    allBack: () => [...services.keys()].every((n) => cameBack.has(n)),
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Records the arrival time and seq of every analysis message a WebSocket client gets. */
export function recordAnalysis(client: TestWsClient): Array<{ seq: number; stream: string; at: number }> {
  const got: Array<{ seq: number; stream: string; at: number }> = [];
  client.ws.on('message', (data) => {
    try {
      const m = JSON.parse(data.toString()) as { type?: string; data?: { seq?: number; stream?: string } };
      if (m.type === 'analysis' && typeof m.data?.seq === 'number') got.push({ seq: m.data.seq, stream: m.data.stream ?? '', at: Date.now() });
    } catch {
      // not ours to judge: TestWsClient records protocol errors
    }
  });
  return got;
}

/** The longest time between two consecutive arrivals within [from, to]. */
export function longestGap(times: number[], from: number, to: number): number {
  const inside = [from, ...times.filter((t) => t >= from && t <= to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
}
