import type http from 'node:http';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { clientMessage, ValidationError, WS_PATH, type ClientMessage, type ServerMessage } from '@lookout/contracts';
import { Counter, Gauge, type Logger, type Registry } from '@lookout/service-kit';
import type { AnalysisListener, RoomFeed } from './room-feed.js';

export interface WsServerOptions {
  server: http.Server;
  feed: RoomFeed;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  maxBufferedBytes: number;
  maxMessageBytes: number;
}

/** One connection per browser: subscribe to rooms, receive their live analysis. */
export class WsServer {
  private readonly wss: WebSocketServer;
  private readonly sent: Counter<'type'>;
  private readonly skipped: Counter;

  constructor(private readonly opts: WsServerOptions) {
    const registers = [opts.metrics];
    this.wss = new WebSocketServer({ server: opts.server, path: WS_PATH, maxPayload: opts.maxMessageBytes });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    const wss = this.wss;
    new Gauge({
      name: 'lookout_gateway_ws_clients',
      help: 'Open WebSocket connections',
      registers,
      collect() {
        this.set(wss.clients.size);
      },
    });
    this.sent = new Counter({ name: 'lookout_gateway_ws_messages_sent_total', help: 'Messages sent to WebSocket clients', labelNames: ['type'], registers });
    this.skipped = new Counter({
      name: 'lookout_gateway_ws_slow_client_skips_total',
      help: 'Live messages not sent because the client had too much unsent data queued',
      registers,
    });
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  private onConnection(ws: WebSocket): void {
    const rooms = new Map<string, AnalysisListener>();
    const send = (msg: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(msg));
      this.sent.inc({ type: msg.type });
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let msg: ClientMessage;
      try {
        if (isBinary) throw new ValidationError('websocket message', '', 'expected a JSON text message');
        msg = clientMessage.parse(JSON.parse(data.toString()));
      } catch (err) {
        this.opts.badMessages.inc({ subject_kind: 'websocket', reason: 'invalid' });
        const field = err instanceof ValidationError ? err.field : undefined;
        send({ type: 'error', code: 'invalid_message', message: (err as Error).message, ...(field ? { field } : {}) });
        return;
      }
      this.handle(msg, rooms, ws, send);
    });
    ws.on('close', () => {
      for (const [room, listener] of rooms) this.opts.feed.unsubscribe(room, listener);
      rooms.clear();
    });
    ws.on('error', (err) => this.opts.log.debug({ err }, 'websocket error'));
  }

  private handle(msg: ClientMessage, rooms: Map<string, AnalysisListener>, ws: WebSocket, send: (m: ServerMessage) => void): void {
    const id = msg.id !== undefined ? { id: msg.id } : {};
    switch (msg.type) {
      case 'ping':
        send({ type: 'ack', op: 'ping', ...id });
        return;
      case 'subscribe': {
        if (!rooms.has(msg.room)) {
          const listener: AnalysisListener = (data) => {
            if (ws.bufferedAmount > this.opts.maxBufferedBytes) return this.skipped.inc();
            send({ type: 'analysis', data });
          };
          rooms.set(msg.room, listener);
          this.opts.feed.subscribe(msg.room, listener);
        }
        send({ type: 'ack', op: 'subscribe', room: msg.room, ...id });
        return;
      }
      case 'unsubscribe': {
        const listener = rooms.get(msg.room);
        if (listener) {
          this.opts.feed.unsubscribe(msg.room, listener);
          rooms.delete(msg.room);
        }
        send({ type: 'ack', op: 'unsubscribe', room: msg.room, ...id });
        return;
      }
    }
  }

  /** Closes every client with 1001 (going away) and stops accepting. */
  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
