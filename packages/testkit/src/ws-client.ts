import type net from 'node:net';
import WebSocket from 'ws';
import { serverMessage, type ServerMessage, type SfuOp } from '@lookout/contracts';

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface TestWsOptions {
  /** Sent as `?token=` (a room token joins its room at once; an admin key authenticates). */
  token?: string;
  /** false: never answer the server's pings (a dead peer, for heartbeat tests). */
  autoPong?: boolean;
}

/**
 * A WebSocket client that queues what it receives and lets a test await the next match.
 * Every message is checked against the contracts' `ServerMessage`; a violation is kept in
 * `protocolErrors` (a test asserts it stays empty) rather than thrown inside ws.
 */
export class TestWsClient {
  readonly protocolErrors: string[] = [];
  /** Resolves with the close code and reason once the connection is gone. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly received: ServerMessage[] = [];
  private readonly waiters = new Set<{ match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }>();
  private nextId = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      let msg: ServerMessage;
      try {
        msg = serverMessage.parse(JSON.parse(data.toString()));
      } catch (err) {
        this.protocolErrors.push((err as Error).message);
        return;
      }
      for (const w of this.waiters) {
        if (w.match(msg)) {
          this.waiters.delete(w);
          return w.resolve(msg);
        }
      }
      this.received.push(msg);
    });
  }

  static async connect(url: string, opts: TestWsOptions = {}): Promise<TestWsClient> {
    const target = opts.token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(opts.token)}` : url;
    const ws = new WebSocket(target, { autoPong: opts.autoPong ?? true });
    // Listen before 'open': a server that answers at once (a refused ?token=) sends its
    // message in the same chunk as the upgrade, handled before an await would resume.
    const client = new TestWsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Errors after open (a reset connection) surface through `closed`.
    ws.on('error', () => undefined);
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }

  /** Sends `msg` with a fresh `id` and resolves with the reply carrying that id (ack, signal or error). */
  async request<T extends ServerMessage = ServerMessage>(msg: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const id = typeof msg.id === 'string' ? msg.id : `r${++this.nextId}`;
    this.send({ ...msg, id });
    return this.next((m): m is T => 'id' in m && m.id === id, timeoutMs);
  }

  /** Joins `room`; resolves with the ack, throws with the error's code and message. */
  async join(room: string, token?: string, extra: Record<string, unknown> = {}): Promise<Msg<'ack'>> {
    return expectOk(await this.request({ type: 'join', room, ...(token !== undefined ? { token } : {}), ...extra }), 'join');
  }

  async subscribe(room: string, feeds?: string[]): Promise<Msg<'ack'>> {
    return expectOk(await this.request({ type: 'subscribe', room, ...(feeds ? { feeds } : {}) }), 'subscribe');
  }

  /** One SFU signaling op through the gateway; resolves with its data. */
  async signal<T = unknown>(op: SfuOp, data: Record<string, unknown> = {}): Promise<T> {
    const reply = await this.request({ type: 'signal', op, data });
    if (reply.type !== 'signal') throw new Error(`signal ${op}: ${reply.type === 'error' ? `${reply.code}: ${reply.message}` : reply.type}`);
    return reply.data as T;
  }

  /** Uploads one JPEG as a frame of `stream` (header message, then the binary). */
  sendFrame(stream: string, jpeg: Uint8Array, meta: { seq: number; captureMs?: number; id?: string; room?: string; width?: number; height?: number }): void {
    this.send({ type: 'frame', stream, captureMs: Date.now(), ...meta });
    this.sendBinary(jpeg);
  }

  /** Stops reading from the socket (a client that never reads); `resume` reads again. */
  pause(): void {
    this.socket().pause();
  }

  resume(): void {
    this.socket().resume();
  }

  /** The first message (already received or future) that matches. */
  next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs = 30_000): Promise<T> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0] as T);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error('timed out waiting for a WebSocket message'));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Takes every message received so far that matches, in order. */
  take<T extends ServerMessage>(match: (m: ServerMessage) => m is T): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.received.length; ) {
      const m = this.received[i]!;
      if (match(m)) {
        out.push(m);
        this.received.splice(i, 1);
      } else i++;
    }
    return out;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.resume();
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close();
    return this.closed.then(() => clearTimeout(timer));
  }

  private socket(): net.Socket {
    return (this.ws as unknown as { _socket: net.Socket })._socket;
  }
}

function expectOk(reply: ServerMessage, what: string): Msg<'ack'> {
  if (reply.type === 'ack') return reply;
  throw new Error(`${what}: ${reply.type === 'error' ? `${reply.code}: ${reply.message}` : `unexpected ${reply.type}`}`);
}

export const isAnalysis = (m: ServerMessage): m is Msg<'analysis'> => m.type === 'analysis';
export const isAck = (m: ServerMessage): m is Msg<'ack'> => m.type === 'ack';
export const isError = (m: ServerMessage): m is Msg<'error'> => m.type === 'error';
export const isAlert = (m: ServerMessage): m is Msg<'alert'> => m.type === 'alert';
export const isMetrics = (m: ServerMessage): m is Msg<'metrics'> => m.type === 'metrics';
export const isSignal = (m: ServerMessage): m is Msg<'signal'> => m.type === 'signal';
export const isSfuEvent = (m: ServerMessage): m is Msg<'sfuevent'> => m.type === 'sfuevent';
export const isClosing = (m: ServerMessage): m is Msg<'closing'> => m.type === 'closing';
