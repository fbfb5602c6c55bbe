import type http from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { WebSocketServer } from 'ws';
import { LookoutError, WS_CLOSE, WS_PATH, type ErrorCode, type StreamInfo } from '@lookout/contracts';
import type { Counter, Logger, Registry } from '@lookout/service-kit';
import type { SfuClient } from '../clients/sfu.js';
import type { GatewayConfig } from '../config.js';
import type { Authenticator } from '../http/auth.js';
import type { TurnCredentials } from '../http/turn-credentials.js';
import { FrameUpload } from './frame-upload.js';
import { PreviewMaker } from './preview-maker.js';
import { WsMetrics } from './metrics.js';
import { RoomFeeds } from './room-feeds.js';
import { WsSession, type SessionContext } from './session.js';
import { SignalingProxy } from './signaling.js';
import { StreamOwners } from './stream-owners.js';

export interface WsGatewayOptions {
  server: http.Server;
  nc: NatsConnection;
  config: GatewayConfig;
  auth: Authenticator;
  /** TURN_URLS: ICE servers in every join ack (none: no TURN). */
  turn?: TurnCredentials | undefined;
  sfu: SfuClient;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  log: Logger;
}

/** How long shutdown waits for sockets to complete their close before cutting them off. */
const SHUTDOWN_GRACE_MS = 2000;

async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Answers meaning "no SFU has this room": then it has no streams either. */
const NO_ROOM: readonly ErrorCode[] = ['not_found', 'unknown_room', 'no_sfu'];

/** The room's streams as its SFU knows them (uploads alone need no SFU). */
function sfuStreams(sfu: SfuClient): (room: string) => Promise<readonly StreamInfo[]> {
  return (room) => sfu.roomCall(room, 'listStreams', {}).catch((err: unknown) => {
    if (err instanceof LookoutError && NO_ROOM.includes(err.code)) return [];
    throw err;
  });
}

const sum = (sessions: Iterable<WsSession>, f: (s: WsSession) => number) => {
  let n = 0;
  for (const s of sessions) n += f(s);
  return n;
};

/**
 * The gateway's WebSocket endpoint (`WS_PATH`; protocol in packages/contracts/src/ws.ts):
 * accepts connections, runs the heartbeat and the stuck-socket sweep, and shares the room
 * feeds, the signaling proxy and the frame upload between sessions.
 */
export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<WsSession>();
  private readonly feeds: RoomFeeds;
  private readonly ctx: SessionContext;
  private readonly intervals: NodeJS.Timeout[];
  private connections = 0;

  constructor(opts: WsGatewayOptions) {
    const { nc, config, log, badMessages } = opts;
    this.feeds = new RoomFeeds(nc, log.child({ module: 'ws-feeds' }), badMessages);
    const metrics = new WsMetrics(opts.metrics, {
      clients: () => this.sessions.size,
      queued: () => sum(this.sessions, (s) => s.queued),
      buffered: () => sum(this.sessions, (s) => s.buffered),
      roomFeeds: () => this.feeds.size,
    });
    this.ctx = {
      config,
      auth: opts.auth,
      turn: opts.turn,
      feeds: this.feeds,
      signaling: new SignalingProxy(opts.sfu, log.child({ module: 'ws-signaling' })),
      frames: new FrameUpload(nc),
      owners: new StreamOwners(sfuStreams(opts.sfu)),
      previews: new PreviewMaker(nc, (outcome) => metrics.previews.inc({ outcome }), log.child({ module: 'ws-previews' })),
      metrics,
      badMessages,
      log,
    };
    // No compression: every message would be deflated once per socket instead of encoded once per room.
    this.wss = new WebSocketServer({ server: opts.server, path: WS_PATH, maxPayload: config.wsMaxMessageBytes, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => {
      metrics.connections.inc();
      const session = new WsSession(ws, req, this.ctx, `c${++this.connections}`);
      this.sessions.add(session);
      void session.closed.then(() => this.sessions.delete(session));
    });
    this.wss.on('error', (err) => log.error({ err }, 'websocket server error'));
    const sweepMs = Math.min(1000, Math.max(50, Math.floor(config.wsStuckMs / 4)));
    this.intervals = [
      setInterval(() => this.sessions.forEach((s) => s.heartbeat()), config.wsHeartbeatMs),
      setInterval(() => {
        const now = Date.now();
        this.sessions.forEach((s) => s.checkStuck(now));
      }, sweepMs),
    ];
    for (const t of this.intervals) t.unref();
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  /** Closes every socket with 1001 (going away), releases their media, and stops accepting. */
  async close(): Promise<void> {
    this.intervals.forEach(clearInterval);
    const closed = Promise.all([...this.sessions].map((s) => s.closed));
    for (const s of this.sessions) s.close(WS_CLOSE.goingAway, 'server shutting down', 'shutdown');
    await within(closed, SHUTDOWN_GRACE_MS);
    for (const s of this.sessions) s.terminate('shutdown');
    // Sessions release their SFU transports as they end; give that a moment too.
    await within(closed, SHUTDOWN_GRACE_MS);
    this.feeds.close();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
