import { LookoutError, rpc, sfuRequests, WS_SIGNAL_OPS, type ErrorCode, type SfuOp, type WsRole } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { RoomRequest, SfuClient } from '../clients/sfu.js';
import { toWsError } from './errors.js';
import type { CappedKind, OwnedMedia } from './owned-media.js';

/** What a socket may do in one room: from its token (or admin key). */
export interface Grant {
  room: string;
  role: WsRole;
  peer: string;
  /** Token expiry (ms since epoch); none for admins. */
  expiresMs?: number;
}

type Body = Record<string, unknown>;

/** The body field naming a media object, the set that must own it, and the error when not. */
const OWNERSHIP: Partial<Record<SfuOp, { field: string; set: (o: OwnedMedia) => { has(id: string): boolean }; code: ErrorCode }>> = {
  connectTransport: { field: 'transportId', set: (o) => o.transports, code: 'unknown_transport' },
  restartIce: { field: 'transportId', set: (o) => o.transports, code: 'unknown_transport' },
  closeTransport: { field: 'transportId', set: (o) => o.transports, code: 'unknown_transport' },
  produce: { field: 'transportId', set: (o) => o.transports, code: 'unknown_transport' },
  consume: { field: 'transportId', set: (o) => o.transports, code: 'unknown_transport' },
  closeProducer: { field: 'producerId', set: (o) => o.producers, code: 'unknown_producer' },
  resumeConsumer: { field: 'consumerId', set: (o) => o.consumers, code: 'unknown_consumer' },
};

/** Ops that create an object a socket's caps count. */
const CREATES: Partial<Record<SfuOp, CappedKind>> = { createWebRtcTransport: 'transport', produce: 'producer' };

const CACHE_MS = 5_000;

/**
 * Forwards browser signaling to the SFU that owns the room. The gateway writes `room` and
 * `peer` itself and checks the role and the ownership of transports, producers and
 * consumers before anything reaches the SFU.
 */
export class SignalingProxy {
  private readonly ensuring = new Map<string, Promise<string | undefined>>();
  private readonly placed = new Map<string, { instance: string; untilMs: number }>();

  constructor(
    private readonly sfu: SfuClient,
    private readonly log: Logger,
  ) {}

  /**
   * Creates the room on the least-loaded SFU unless it has an owner; the owner, or
   * undefined when no SFU answers (analysis still works; signaling tries again).
   * Concurrent joins of one room share one lookup.
   */
  ensureRoom(room: string): Promise<string | undefined> {
    const cached = this.placed.get(room);
    if (cached && cached.untilMs > Date.now()) return Promise.resolve(cached.instance);
    let pending = this.ensuring.get(room);
    if (!pending) {
      pending = this.sfu
        .ensureRoom(room)
        .then((instance) => (this.placed.set(room, { instance, untilMs: Date.now() + CACHE_MS }), instance))
        .catch((err: Error) => (this.log.warn({ room, error: err.message }, 'could not place the room on an SFU'), undefined))
        .finally(() => this.ensuring.delete(room));
      this.ensuring.set(room, pending);
    }
    return pending;
  }

  /**
   * Checks, forwards and records one op; throws a LookoutError (fields relative to the
   * message). A creation over the socket's cap is refused here; the SFU then applies its
   * caps per peer and per room (which hold across gateway replicas).
   */
  async forward(grant: Grant, op: SfuOp, data: Body, owned: OwnedMedia): Promise<unknown> {
    const body = this.authorize(grant, op, data, owned);
    const creates = CREATES[op];
    const done = creates ? owned.reserve(creates) : undefined;
    try {
      let result: unknown;
      try {
        result = await this.call(grant.room, op, body);
      } catch (err) {
        const e = toWsError(err, 'data');
        this.forget(e, body, owned);
        throw e;
      }
      this.record(grant.room, op, body, result, owned);
      return result;
    } finally {
      done?.();
    }
  }

  /** Closes the transports a socket left open (their producers and consumers go with them). */
  async release(owned: OwnedMedia): Promise<void> {
    const all = [...owned.transports];
    owned.transports.clear();
    await Promise.all(
      all.map(([transportId, room]) =>
        this.sfu.roomCall(room, 'closeTransport', { transportId }).catch((err: Error) => this.log.debug({ room, transportId, error: err.message }, 'transport already gone')),
      ),
    );
  }

  private authorize(grant: Grant, op: SfuOp, data: Body, owned: OwnedMedia): Body {
    if (grant.role !== 'admin' && !WS_SIGNAL_OPS[grant.role].includes(op)) throw new LookoutError('forbidden', `op: a ${grant.role} may not ${op}`, 'op');
    for (const key of ['room', 'peer'] as const) {
      if (data[key] !== undefined && data[key] !== grant[key]) throw new LookoutError('forbidden', `data/${key}: this socket acts for ${key} ${grant[key]} only`, `data/${key}`);
    }
    const body: Body = { ...data, room: grant.room };
    if ('peer' in sfuRequests[op].properties) body.peer = grant.peer;
    if (op === 'createWebRtcTransport' && grant.role === 'viewer' && body.direction !== 'recv') throw new LookoutError('forbidden', 'data/direction: a viewer may only receive ("recv")', 'data/direction');
    if (op === 'createWebRtcTransport' && grant.role === 'publisher' && body.direction !== 'send') throw new LookoutError('forbidden', 'data/direction: a publisher may only send ("send")', 'data/direction');
    try {
      rpc.sfu[op].request.parse(body);
    } catch (err) {
      throw toWsError(err, 'data');
    }
    const rule = OWNERSHIP[op];
    const id = rule ? body[rule.field] : undefined;
    if (rule && grant.role !== 'admin' && !rule.set(owned).has(id as string)) throw new LookoutError(rule.code, `data/${rule.field}: no such object of this connection`, `data/${rule.field}`);
    return body;
  }

  private async call(room: string, op: SfuOp, body: Body): Promise<unknown> {
    const { room: _room, ...rest } = body;
    const request = rest as RoomRequest<SfuOp>;
    try {
      return await this.sfu.roomCall(room, op, request);
    } catch (err) {
      if (!(err instanceof LookoutError) || !(await this.replace(room, err))) throw err;
      return this.sfu.roomCall(room, op, request);
    }
  }

  /**
   * A room with no live owner (new, or its SFU is gone) is placed again; a room its owner
   * lost (worker died) is created there again (createRoom is idempotent). True: retry.
   */
  private async replace(room: string, err: LookoutError): Promise<boolean> {
    if (err.code === 'not_found') {
      this.placed.delete(room);
      if (!(await this.ensureRoom(room))) throw new LookoutError('no_sfu', 'no SFU instance is available for this room');
      return true;
    }
    if (err.code !== 'unknown_room') return false;
    const owner = await this.sfu.owner(room);
    if (!owner) return false;
    await this.sfu.call(owner.instance, 'createRoom', { room });
    return true;
  }

  private record(room: string, op: SfuOp, body: Body, result: unknown, owned: OwnedMedia): void {
    const id = (result as { id?: unknown } | null)?.id;
    if (op === 'createWebRtcTransport' && typeof id === 'string') owned.transports.set(id, room);
    else if (op === 'produce' && typeof id === 'string') owned.producers.set(id, body.transportId as string);
    else if (op === 'consume' && typeof id === 'string') owned.consumers.set(id, body.transportId as string);
    else if (op === 'closeTransport') owned.dropTransport(body.transportId as string);
    else if (op === 'closeProducer') owned.producers.delete(body.producerId as string);
  }

  /** What the SFU no longer has (closed with its room, its worker, or its producer) stops counting. */
  private forget(err: LookoutError, body: Body, owned: OwnedMedia): void {
    if (err.code === 'unknown_transport' && typeof body.transportId === 'string') owned.dropTransport(body.transportId);
    else if (err.code === 'unknown_producer' && typeof body.producerId === 'string') owned.producers.delete(body.producerId);
    else if (err.code === 'unknown_consumer' && typeof body.consumerId === 'string') owned.consumers.delete(body.consumerId);
  }
}
