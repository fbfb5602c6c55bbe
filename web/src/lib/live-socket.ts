import { LookoutError, serverMessage, WS_CLOSE, WS_PATH, type AlertEvent, type AnalysisMessage, type IceServer, type JobInfo, type ServerMessage, type SfuEvent, type SfuOp, type StreamMetricsEvent, type WsFeed } from '@lookout/contracts';
import { Emitter } from './emitter';

/**
 * The browser's one WebSocket to the gateway (`/ws`, protocol in packages/contracts/src/ws.ts):
 * join with a token, subscribe to feeds, SFU signaling as request/reply, fallback JPEG upload.
 * It reconnects by itself with a jittered doubling backoff and joins and subscribes again,
 * so pages only watch `status` and react to `joined` (media objects died with the old socket).
 */
export type LiveStatus = 'connecting' | 'joining' | 'live' | 'reconnecting' | 'refused' | 'closed';

export interface StatusInfo {
  status: LiveStatus;
  /** Human-readable: why we are reconnecting, what was refused. */
  detail: string;
  /** Reconnect attempts since the last successful join. */
  attempt: number;
}

export interface JoinInfo {
  role: string;
  peer: string;
  /** The SFU instance owning the room; null when none answered (signaling tries again). */
  sfu: string | null;
  /** 1 for the first join, then one more for every reconnect. */
  generation: number;
  /** TURN servers with credentials for this join (none when the gateway has no TURN_URLS). */
  iceServers: IceServer[];
}

export interface LiveEvents {
  analysis: AnalysisMessage;
  preview: Extract<ServerMessage, { type: 'preview' }>['data'];
  alert: AlertEvent;
  metrics: StreamMetricsEvent;
  sfuevent: SfuEvent;
  /** Progress of the recording job whose room this is (feed `job`). */
  job: JobInfo;
  status: StatusInfo;
  joined: JoinInfo;
}

export interface LiveSocketOptions {
  room: string;
  /** Called on every (re)connect, so an admin-minted token can be renewed when it expired. */
  token: () => Promise<string>;
  /** True when `token` mints a fresh one: then an expired token (4401) is worth a reconnect. */
  renewable?: boolean;
  /** Feeds to subscribe to after each join; none: join only (sfuevents still arrive). */
  feeds?: readonly WsFeed[];
  /** Defaults to the page's own origin. */
  url?: string;
}

/**
 * The socket itself failed a request: no reply in time, the connection closed, not joined,
 * a reply of the wrong kind. A refusal from the gateway (an `error` reply) is not one of
 * these but the LookoutError it sent, with its code and field.
 */
export class LinkError extends Error {
  constructor(
    readonly reason: 'timeout' | 'connection_closed' | 'not_connected' | 'unexpected_reply',
    message: string,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** A live socket is pinged this often; no ack within PING_TIMEOUT_MS means a dead link. */
const PING_EVERY_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;
/** Frames in flight without an ack: more would only queue behind a slow link and age. */
const MAX_FRAMES_IN_FLIGHT = 2;
const MAX_BUFFERED_BYTES = 1 << 20;

type Pending = { resolve: (m: ServerMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export class LiveSocket extends Emitter<LiveEvents> {
  status: StatusInfo = { status: 'connecting', detail: '', attempt: 0 };
  /** Server messages that failed the contracts' validator (kept for the page and tests). */
  protocolErrors = 0;
  framesAcked = 0;
  lastFrameError: string | null = null;
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private generation = 0;
  private framesInFlight = 0;
  private stopped = false;
  private ice: IceServer[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pinger: ReturnType<typeof setInterval>;
  private readonly onOnline = () => this.status.status === 'reconnecting' && this.reconnectNow();

  constructor(private readonly opts: LiveSocketOptions) {
    super();
    this.pinger = setInterval(() => void this.checkAlive(), PING_EVERY_MS);
    addEventListener('online', this.onOnline);
    this.open();
  }

  /** The TURN servers of the last join's ack (their credentials expire with its token); [] without TURN. */
  get iceServers(): IceServer[] {
    return this.ice;
  }

  get live(): boolean {
    return this.status.status === 'live';
  }

  /** One SFU op for the joined room; resolves with the SFU's data, rejects with LookoutError or LinkError. */
  async signal<T = unknown>(op: SfuOp, data: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    if (!this.live) throw new LinkError('not_connected', `${op}: not connected to the gateway`);
    const reply = await this.request({ type: 'signal', op, data }, timeoutMs);
    if (reply.type !== 'signal') throw new LinkError('unexpected_reply', `${op}: unexpected ${reply.type} reply`);
    return reply.data as T;
  }

  /**
   * Fallback upload: the `frame` header, then the JPEG as the next binary message. Returns
   * false (frame skipped) when not live or when earlier frames are still unacknowledged.
   */
  sendFrame(frame: { stream: string; seq: number; captureMs: number; width: number; height: number }, jpeg: ArrayBuffer): boolean {
    const ws = this.ws;
    if (!ws || !this.live || this.framesInFlight >= MAX_FRAMES_IN_FLIGHT || ws.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    this.framesInFlight++;
    const id = `f${frame.seq}`;
    this.track(id, 10_000).then(
      () => (this.framesAcked++, (this.lastFrameError = null)),
      (err: Error) => (this.lastFrameError = err.message),
    ).finally(() => (this.framesInFlight = Math.max(0, this.framesInFlight - 1)));
    ws.send(JSON.stringify({ type: 'frame', id, ...frame }));
    ws.send(jpeg);
    return true;
  }

  close(): void {
    this.stopped = true;
    clearInterval(this.pinger);
    clearTimeout(this.retryTimer);
    removeEventListener('online', this.onOnline);
    this.drop('closed by the page');
    this.setStatus('closed', '');
  }

  private url(): string {
    if (this.opts.url) return this.opts.url;
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;
  }

  private open(): void {
    this.setStatus(this.status.attempt === 0 ? 'connecting' : 'reconnecting', this.status.detail);
    const ws = new WebSocket(this.url());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => void this.join(ws);
    ws.onmessage = (e) => this.onMessage(e.data);
    ws.onclose = (e) => this.ws === ws && this.onClosed(e.code, e.reason);
  }

  private async join(ws: WebSocket): Promise<void> {
    this.setStatus('joining', '');
    try {
      const token = await this.opts.token();
      const ack = await this.request({ type: 'join', room: this.opts.room, token });
      if (this.ws !== ws || ack.type !== 'ack') return;
      if (this.opts.feeds) await this.request({ type: 'subscribe', room: this.opts.room, feeds: [...this.opts.feeds] });
      if (this.ws !== ws) return;
      this.status.attempt = 0;
      this.ice = ack.iceServers ?? [];
      this.setStatus('live', '');
      this.emit('joined', { role: ack.role ?? 'viewer', peer: ack.peer ?? '', sfu: ack.sfu ?? null, generation: ++this.generation, iceServers: this.ice });
    } catch (err) {
      // The gateway closes the socket itself after refusing a credential (4401/4403), and
      // onClosed decides what next; anything else (no token, no reply) is retried here.
      const serverRefused = err instanceof LookoutError;
      if (serverRefused) this.status.detail = err.message;
      else if (this.ws === ws) this.drop((err as Error).message, true);
    }
  }

  private request(msg: Record<string, unknown>, timeoutMs = 15_000): Promise<ServerMessage> {
    const id = `r${++this.nextId}`;
    const reply = this.track(id, timeoutMs);
    this.ws?.send(JSON.stringify({ ...msg, id }));
    return reply;
  }

  /** Resolves with the reply carrying `id`; an `error` reply rejects with its LookoutError. */
  private track(id: string, timeoutMs: number): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new LinkError('timeout', `no reply within ${timeoutMs} ms`))), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = serverMessage.parse(JSON.parse(raw));
    } catch (err) {
      this.protocolErrors++;
      console.warn('lookout: dropped a server message that fails the protocol', (err as Error).message);
      return;
    }
    const id = 'id' in msg ? msg.id : undefined;
    const waiter = id !== undefined ? this.pending.get(id) : undefined;
    if (waiter && id !== undefined) {
      this.pending.delete(id);
      clearTimeout(waiter.timer);
      if (msg.type === 'error') waiter.reject(LookoutError.fromBody({ code: msg.code, message: msg.message, ...(msg.field !== undefined ? { field: msg.field } : {}) }));
      else waiter.resolve(msg);
      return;
    }
    if (msg.type === 'analysis' || msg.type === 'alert' || msg.type === 'metrics' || msg.type === 'sfuevent' || msg.type === 'preview' || msg.type === 'job') this.emit(msg.type, msg.data as never);
    else if (msg.type === 'closing') this.status.detail = msg.reason;
    else if (msg.type === 'error') console.warn(`lookout: gateway error ${msg.code}: ${msg.message}`);
  }

  private onClosed(code: number, reason: string): void {
    this.ws = null;
    this.failPending();
    if (this.stopped) return;
    const why = reason || this.status.detail || `connection closed (${code})`;
    const renew = this.opts.renewable === true && /expired/i.test(why);
    const refused = code === WS_CLOSE.forbidden || (code === WS_CLOSE.unauthorized && !renew);
    if (refused) return this.setStatus('refused', why);
    const attempt = ++this.status.attempt;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
    this.setStatus('reconnecting', `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private reconnectNow(): void {
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Forgets the socket now (a dead link may take a long time to report its close). */
  private drop(reason: string, reconnect = false): void {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = ws.onmessage = ws.onopen = null;
    ws.close(1000);
    if (reconnect) return this.onClosed(4000, reason);
    this.ws = null;
    this.failPending();
  }

  private failPending(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new LinkError('connection_closed', 'the connection to the gateway closed'));
      this.pending.delete(id);
    }
    this.framesInFlight = 0;
  }

  private async checkAlive(): Promise<void> {
    if (!this.live) return;
    try {
      await this.request({ type: 'ping' }, PING_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof LinkError && err.reason === 'timeout') this.drop('the gateway stopped answering', true);
    }
  }

  private setStatus(status: LiveStatus, detail: string): void {
    this.status = { status, detail, attempt: this.status.attempt };
    this.emit('status', { ...this.status });
  }
}
