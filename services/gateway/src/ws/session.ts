import type http from 'node:http';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { clientMessage, LookoutError, ValidationError, WS_CLOSE, WS_DEFAULT_FEEDS, WS_FEEDS, type ClientMessage, type ServerMessage, type WsFeed } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import type { GatewayConfig } from '../config.js';
import { credentialOf, type Authenticator } from '../http/auth.js';
import type { TurnCredentials } from '../http/turn-credentials.js';
import { Access } from './access.js';
import { closeCodeOf, closeReason, toWsError } from './errors.js';
import type { FrameHeader, FrameUpload } from './frame-upload.js';
import type { CloseReason, WsMetrics } from './metrics.js';
import { Outbox, type Outgoing } from './outbox.js';
import type { PreviewMaker } from './preview-maker.js';
import type { FeedKind, FeedListener, RoomFeeds } from './room-feeds.js';
import { OwnedMedia } from './owned-media.js';
import type { Grant, SignalingProxy } from './signaling.js';
import { PublisherView } from './publisher-view.js';
import { SocketStreams, type StreamOwners } from './stream-owners.js';
import { CredentialChecks } from './credential-checks.js';

/** What every session of one gateway shares. */
export interface SessionContext {
  config: Pick<GatewayConfig, 'wsMaxBufferedBytes' | 'wsQueueLength' | 'wsMaxMessageAgeMs' | 'wsStuckMs' | 'wsJoinTimeoutMs' | 'wsMaxTransports' | 'wsMaxProducers'>;
  auth: Authenticator;
  /** TURN_URLS: each join's ack carries ICE servers for its peer, expiring with its token (none: no TURN). */
  turn?: TurnCredentials | undefined;
  feeds: RoomFeeds;
  signaling: SignalingProxy;
  frames: FrameUpload;
  /** Which streams a socket may upload frames to. */
  owners: StreamOwners;
  previews: PreviewMaker;
  metrics: WsMetrics;
  badMessages: Counter<'subject_kind' | 'reason'>;
  log: Logger;
}

/** Signaling requests one socket may have in flight (a browser needs a handful). */
const MAX_SIGNALS_IN_FLIGHT = 8;
/** Frames one socket may have waiting for the SFU to say whose their stream is (its first frames only). */
const MAX_FRAMES_AWAITING_OWNER = 4;
/** Messages one socket may send while a credential check of it runs (they wait for it, in order). */
const MAX_WAITING_FOR_AUTH = 32;
/** Longest timer Node accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const CLOSE_REASONS: Record<number, CloseReason> = { [WS_CLOSE.unauthorized]: 'unauthorized', [WS_CLOSE.forbidden]: 'forbidden' };

const toBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
const encode = (msg: ServerMessage): Outgoing => ({ type: msg.type, drop: 'keep', data: Buffer.from(JSON.stringify(msg)), atMs: Date.now() });

/** One browser connection: authentication, feeds, signaling, frame upload, closing. */
export class WsSession {
  readonly closed: Promise<void>;
  private readonly access: Access;
  private readonly outbox: Outbox;
  private readonly follows = new Map<string, Set<FeedKind>>();
  private readonly owned: OwnedMedia;
  private readonly streams: SocketStreams;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly publisherView = new PublisherView();
  private readonly listener: FeedListener = (m) => {
    if (m.type === 'sfuevent') this.onSfuEvent(m.data);
    const out = this.access.hasPublisherGrant ? this.publisherView.filter(m, (room) => this.access.publisherPeerIn(room)) : m;
    if (out) this.outbox.push(out);
  };
  private framesAwaitingOwner = 0;
  private pendingFrame: { header: FrameHeader; grant: Grant } | undefined;
  private signalsInFlight = 0;
  private alive = true;
  private closing = false;
  private disposed = false;
  private errorReason: CloseReason | undefined;
  private readonly checks = new CredentialChecks(MAX_WAITING_FOR_AUTH, () => this.closing);

  constructor(
    private readonly ws: WebSocket,
    req: http.IncomingMessage,
    private readonly ctx: SessionContext,
    readonly id: string,
  ) {
    const { config, metrics } = ctx;
    this.access = new Access(ctx.auth, `admin-${id}`, ctx.auth.clientOf(req));
    this.owned = new OwnedMedia({ transports: config.wsMaxTransports, producers: config.wsMaxProducers });
    this.streams = new SocketStreams(ctx.owners, id);
    const limits = { capacity: config.wsQueueLength, maxBufferedBytes: config.wsMaxBufferedBytes, maxAgeMs: config.wsMaxMessageAgeMs };
    this.outbox = new Outbox(ws, limits, {
      sent: (m) => metrics.sent.inc({ type: m.type }),
      dropped: (m, reason) => metrics.dropped.inc({ type: m.type, reason }),
      overflow: () => this.close(WS_CLOSE.stuck, 'backpressure: send queue full of messages that cannot be dropped', 'overflow'),
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve(this.dispose())));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err: Error & { code?: string }) => this.onError(err));
    this.authenticateUrl(req);
  }

  get queued(): number {
    return this.outbox.queued;
  }

  get buffered(): number {
    return this.outbox.buffered;
  }

  /** Called every WS_HEARTBEAT_MS: a peer that did not answer the previous ping is gone. */
  heartbeat(): void {
    if (this.closing) return;
    if (!this.alive) return this.terminate('heartbeat');
    this.alive = false;
    this.ws.ping();
  }

  /** Called periodically: closes a socket that has not taken its messages for WS_STUCK_MS. */
  checkStuck(now: number): void {
    if (!this.closing && this.outbox.isStuck(now, this.ctx.config.wsStuckMs)) this.close(WS_CLOSE.stuck, `backpressure: messages not read for ${this.ctx.config.wsStuckMs} ms`, 'stuck');
  }

  /** Sends `closing`, then closes; a peer that does not complete the close is cut off after a grace. */
  close(code: number, reason: string, why: CloseReason): void {
    if (this.closing) return;
    this.closing = true;
    this.ctx.metrics.closes.inc({ reason: why });
    this.outbox.push(encode({ type: 'closing', code, reason }));
    this.outbox.stop();
    this.ws.close(code, closeReason(reason));
    const grace = Math.max(1000, this.ctx.config.wsStuckMs);
    this.timers.set('kill', setTimeout(() => this.ws.terminate(), grace).unref());
  }

  /** Cuts the connection now (counted under `why` unless it was already closing). */
  terminate(why: CloseReason): void {
    if (!this.closing) {
      this.closing = true;
      this.ctx.metrics.closes.inc({ reason: why });
      this.outbox.stop();
    }
    this.ws.terminate();
  }

  private send(msg: ServerMessage): void {
    this.outbox.push(encode(msg));
  }

  private authenticateUrl(req: http.IncomingMessage): void {
    const credential = credentialOf(req.headers, new URL(req.url ?? '/', 'http://x').searchParams);
    if (credential === undefined) {
      const ms = this.ctx.config.wsJoinTimeoutMs;
      const timer = setTimeout(() => !this.access.authenticated && this.close(WS_CLOSE.unauthorized, `join: no join within ${ms} ms`, 'join_timeout'), ms);
      this.timers.set('join', timer.unref());
      return;
    }
    this.authenticate(() => this.access.fromCredential(credential))
      .then((grant) => grant && this.joined(grant))
      .catch((err) => this.refuse(err));
  }

  /** Runs a credential check after the ones before it (credential-checks.ts). */
  private authenticate<T>(check: () => Promise<T>): Promise<T> {
    return this.checks.run(check);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closing) return;
    if (!this.checks.admit(() => this.handleMessage(data, isBinary))) {
      this.refuse(new LookoutError('too_many_requests', `at most ${MAX_WAITING_FOR_AUTH} messages may wait for a credential check`, 'type'), undefined, 'waiting_for_auth');
    }
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    if (isBinary) return this.onFrameData(toBuffer(data));
    let msg: ClientMessage;
    try {
      let value: unknown;
      try {
        value = JSON.parse(toBuffer(data).toString('utf8'));
      } catch (err) {
        throw new ValidationError('websocket message', '', `not valid JSON (${(err as Error).message})`);
      }
      msg = clientMessage.parse(value);
    } catch (err) {
      return this.refuse(err, undefined, 'invalid');
    }
    this.dispatch(msg).catch((err) => this.refuse(err, msg.id));
  }

  /** Sends the error; counts a bad message when `bad` names why; closes on auth refusals. */
  private refuse(err: unknown, id?: string, bad?: string): void {
    const e = toWsError(err);
    if (e.code === 'internal') this.ctx.log.error({ err, session: this.id }, 'websocket request failed');
    if (bad) this.ctx.badMessages.inc({ subject_kind: 'ws', reason: bad });
    if (this.closing) return;
    this.ctx.metrics.errors.inc({ code: e.code });
    this.send({ type: 'error', code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}), ...(id !== undefined ? { id } : {}) });
    const close = closeCodeOf(e.code);
    if (close) this.close(close, e.message, CLOSE_REASONS[close] ?? 'error');
  }

  private async dispatch(msg: ClientMessage): Promise<void> {
    const id = msg.id !== undefined ? { id: msg.id } : {};
    if (msg.type === 'ping') return this.send({ type: 'ack', op: 'ping', ...id });
    if (msg.type === 'join') return this.joined(await this.authenticate(() => this.access.join(msg)), msg.id);
    if (!this.access.authenticated) throw new LookoutError('unauthorized', `${msg.type}: join a room first`, 'type');
    switch (msg.type) {
      case 'subscribe':
        return this.subscribe(msg.room, msg.feeds ?? WS_DEFAULT_FEEDS, id);
      case 'unsubscribe':
        return this.unsubscribe(msg.room, msg.feeds ?? WS_FEEDS, id);
      case 'signal':
        return this.signal(msg);
      case 'frame':
        return this.frameHeader(msg);
    }
  }

  private async joined(grant: Grant, id?: string): Promise<void> {
    this.expireAt(grant);
    const [sfu] = await Promise.all([this.ctx.signaling.ensureRoom(grant.room), this.follow(grant.room, ['sfuevents'])]);
    const expires = grant.expiresMs !== undefined ? { expiresMs: grant.expiresMs } : {};
    const ice = this.ctx.turn ? { iceServers: this.ctx.turn.issue(grant.peer, grant.expiresMs) } : {};
    this.send({ type: 'ack', op: 'join', room: grant.room, role: grant.role, peer: grant.peer, sfu: sfu ?? null, ...expires, ...ice, ...(id !== undefined ? { id } : {}) });
  }

  /** Closes the socket when the room's token expires (a join with a fresh token moves it). */
  private expireAt(grant: Grant): void {
    const key = `exp:${grant.room}`;
    clearTimeout(this.timers.get(key));
    if (grant.expiresMs === undefined) return;
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, grant.expiresMs - Date.now()));
    this.timers.set(key, setTimeout(() => this.close(WS_CLOSE.unauthorized, `token: expired for room ${grant.room}; join again with a fresh token`, 'token_expired'), ms).unref());
  }

  private async subscribe(room: string, feeds: readonly WsFeed[], id: { id?: string }): Promise<void> {
    this.access.checkFeeds(room, feeds);
    await this.follow(room, [...feeds, 'sfuevents']);
    this.send({ type: 'ack', op: 'subscribe', room, feeds: this.feedsOf(room), ...id });
  }

  private unsubscribe(room: string, feeds: readonly WsFeed[], id: { id?: string }): void {
    this.unfollow(room, feeds);
    if (this.feedsOf(room).length === 0 && !this.access.isJoined(room)) this.unfollow(room, ['sfuevents']);
    this.send({ type: 'ack', op: 'unsubscribe', room, feeds: this.feedsOf(room), ...id });
  }

  private feedsOf(room: string): WsFeed[] {
    return WS_FEEDS.filter((f) => this.follows.get(room)?.has(f));
  }

  /** Resolves once NATS has every subscription this needed. */
  private async follow(room: string, kinds: readonly FeedKind[]): Promise<void> {
    if (this.disposed) return;
    const set = this.follows.get(room) ?? new Set<FeedKind>();
    this.follows.set(room, set);
    const pending: Array<Promise<void>> = [];
    for (const k of kinds) {
      if (set.has(k)) continue;
      set.add(k);
      pending.push(this.ctx.feeds.add(room, k, this.listener));
    }
    await Promise.all(pending);
  }

  private unfollow(room: string, kinds: readonly FeedKind[]): void {
    const set = this.follows.get(room);
    if (!set) return;
    for (const k of kinds) if (set.delete(k)) this.ctx.feeds.remove(room, k, this.listener);
    if (set.size === 0) this.follows.delete(room);
  }

  private async signal(msg: Extract<ClientMessage, { type: 'signal' }>): Promise<void> {
    const grant = this.access.grantFor(msg.room);
    if (msg.op === 'produce' && typeof msg.data?.stream === 'string') this.ctx.owners.checkClaim(grant, msg.data.stream);
    if (this.signalsInFlight >= MAX_SIGNALS_IN_FLIGHT) throw new LookoutError('too_many_requests', `signal: at most ${MAX_SIGNALS_IN_FLIGHT} requests in flight`, 'id');
    this.signalsInFlight++;
    try {
      const data = await this.ctx.signaling.forward(grant, msg.op, msg.data ?? {}, this.owned);
      this.ctx.metrics.signals.inc({ op: msg.op, outcome: 'ok' });
      // The socket closed while the SFU worked: what it just created must not outlive it.
      if (this.disposed) return void this.ctx.signaling.release(this.owned);
      if (msg.op === 'produce' && typeof msg.data?.stream === 'string') this.publisherView.claim(grant.room, msg.data.stream);
      this.send({ type: 'signal', id: msg.id, op: msg.op, data: data ?? null });
    } catch (err) {
      this.ctx.metrics.signals.inc({ op: msg.op, outcome: 'error' });
      throw err;
    } finally {
      this.signalsInFlight--;
    }
  }

  private frameHeader(header: FrameHeader): void {
    const grant = this.access.grantFor(header.room);
    if (grant.role === 'viewer') throw new LookoutError('forbidden', 'frame: a viewer may not upload frames', 'type');
    const replaced = this.pendingFrame;
    this.pendingFrame = { header, grant };
    if (replaced) this.refuse(new LookoutError('missing_frame_data', 'frame: another frame header came before this one\'s JPEG', 'type'), replaced.header.id, 'bad_frame');
  }

  private onFrameData(jpeg: Buffer): void {
    const pending = this.pendingFrame;
    this.pendingFrame = undefined;
    if (!pending) return this.refuse(new LookoutError('unexpected_binary', 'binary message without a frame header before it', 'type'), undefined, 'unexpected_binary');
    const { header, grant } = pending;
    if (this.framesAwaitingOwner >= MAX_FRAMES_AWAITING_OWNER) {
      return this.refuseFrame(new LookoutError('busy', `frame: ${MAX_FRAMES_AWAITING_OWNER} frames already wait for the SFU to confirm their streams`, 'stream'), header, 'bad_frame');
    }
    this.framesAwaitingOwner++;
    this.streams.mayUpload(grant, header.stream).then(
      () => {
        this.framesAwaitingOwner--;
        if (!this.disposed) this.publishFrame(header, grant, jpeg);
      },
      (err: unknown) => {
        this.framesAwaitingOwner--;
        this.refuseFrame(err, header, 'not_owned');
      },
    );
  }

  private publishFrame(header: FrameHeader, grant: Grant, jpeg: Buffer): void {
    try {
      const meta = this.ctx.frames.publish(grant.room, grant.peer, header, jpeg);
      this.publisherView.claim(grant.room, header.stream);
      this.ctx.metrics.frames.inc({ outcome: 'published' });
      this.ctx.previews.offer(meta, jpeg);
      if (header.id !== undefined) this.send({ type: 'ack', op: 'frame', id: header.id, room: grant.room, seq: meta.seq });
    } catch (err) {
      this.refuseFrame(err, header, 'bad_frame');
    }
  }

  private refuseFrame(err: unknown, header: FrameHeader, reason: string): void {
    this.ctx.metrics.frames.inc({ outcome: 'refused' });
    this.refuse(err, header.id, reason);
  }

  /** The room's router is gone (closed, or its worker died): so is what this socket had in it. */
  private onSfuEvent(data: Buffer): void {
    let event: { data?: { type?: unknown; room?: unknown } };
    try {
      event = JSON.parse(data.toString('utf8')) as typeof event;
    } catch {
      return;
    }
    const { type, room } = event.data ?? {};
    if ((type === 'room_closed' || type === 'worker_died') && typeof room === 'string') this.owned.dropRoom(room);
  }

  private onError(err: Error & { code?: string }): void {
    // ws closes the socket itself after these (1009 for a message over maxPayload).
    this.errorReason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too_large' : 'error';
    this.ctx.badMessages.inc({ subject_kind: 'ws', reason: this.errorReason });
    this.ctx.log.debug({ err, session: this.id }, 'websocket error');
  }

  private async dispose(): Promise<void> {
    this.disposed = true;
    if (!this.closing) this.ctx.metrics.closes.inc({ reason: this.errorReason ?? 'client' });
    this.closing = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.outbox.stop();
    for (const [room, set] of [...this.follows]) this.unfollow(room, [...set]);
    this.pendingFrame = undefined;
    this.streams.release();
    await this.ctx.signaling.release(this.owned);
  }
}
