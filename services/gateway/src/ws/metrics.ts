import { Counter, Gauge, type Registry } from '@lookout/service-kit';
import type { DropReason } from './send-queue.js';

/** Why a socket ended (label of lookout_gateway_ws_closes_total). */
export type CloseReason = 'client' | 'unauthorized' | 'forbidden' | 'join_timeout' | 'token_expired' | 'stuck' | 'overflow' | 'heartbeat' | 'too_large' | 'shutdown' | 'error';

/** Sums over the open sockets, read when /metrics is scraped. */
export interface WsGauges {
  clients(): number;
  queued(): number;
  buffered(): number;
  roomFeeds(): number;
}

/** The WebSocket's metrics; names are stable (dashboards use them). */
export class WsMetrics {
  readonly connections: Counter;
  readonly closes: Counter<'reason'>;
  readonly sent: Counter<'type'>;
  readonly dropped: Counter<'type' | 'reason'>;
  readonly signals: Counter<'op' | 'outcome'>;
  readonly frames: Counter<'outcome'>;
  readonly previews: Counter<'outcome'>;
  readonly errors: Counter<'code'>;

  constructor(registry: Registry, gauges: WsGauges) {
    const registers = [registry];
    this.connections = new Counter({ name: 'lookout_gateway_ws_connections_total', help: 'WebSocket connections accepted', registers });
    this.closes = new Counter({ name: 'lookout_gateway_ws_closes_total', help: 'WebSocket connections ended, by reason', labelNames: ['reason'], registers });
    this.sent = new Counter({ name: 'lookout_gateway_ws_messages_sent_total', help: 'Messages handed to WebSocket clients, by type', labelNames: ['type'], registers });
    this.dropped = new Counter({
      name: 'lookout_gateway_ws_messages_dropped_total',
      help:
        'Messages not sent to slow WebSocket clients, by type and reason (superseded: a newer one of its stream replaced it in the socket\'s queue; ' +
        'stale: it waited longer than WS_MAX_MESSAGE_AGE_MS; queue_full: the socket\'s bounded queue made room)',
      labelNames: ['type', 'reason'],
      registers,
    });
    // Every series an expendable message can have, from zero: a dashboard's rate() sees the first drop.
    for (const type of ['analysis', 'metrics', 'preview']) {
      for (const reason of ['superseded', 'stale', 'queue_full'] satisfies DropReason[]) this.dropped.inc({ type, reason }, 0);
    }
    this.signals = new Counter({ name: 'lookout_gateway_ws_signals_total', help: 'SFU signaling ops forwarded for WebSocket clients, by op and outcome', labelNames: ['op', 'outcome'], registers });
    this.frames = new Counter({ name: 'lookout_gateway_ws_frames_total', help: 'Fallback frames uploaded over WebSocket, by outcome (published, refused)', labelNames: ['outcome'], registers });
    this.previews = new Counter({
      name: 'lookout_gateway_ws_previews_total',
      help: 'Uploaded frames offered for the preview feed, by outcome (published, rate_limited, busy, too_large, failed)',
      labelNames: ['outcome'],
      registers,
    });
    // Every refusal sent to a client, by code: some (too_many_requests, a frame or signal for a
    // room the socket did not join) were counted nowhere else (found by test/fuzz).
    this.errors = new Counter({ name: 'lookout_gateway_ws_errors_total', help: 'Error replies sent to WebSocket clients, by code (every refused message)', labelNames: ['code'], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('lookout_gateway_ws_clients', 'Open WebSocket connections', gauges.clients);
    gauge('lookout_gateway_ws_queued_messages', 'Messages waiting in the per-socket queues (all sockets)', gauges.queued);
    gauge('lookout_gateway_ws_buffered_bytes', 'Bytes handed to sockets and not yet written to the network (all sockets)', gauges.buffered);
    gauge('lookout_gateway_ws_room_feeds', 'NATS subscriptions held for WebSocket feeds (one per room and kind)', gauges.roomFeeds);
  }
}
