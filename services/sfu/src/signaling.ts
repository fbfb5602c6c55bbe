import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { types } from 'mediasoup';
import { encodeJson, sfuReply, sfuRequestValidators, subjects, ValidationError, type SfuOp, type SfuReply, type SfuRequest } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import { RoomError } from './room-error.js';
import type { RoomManager } from './room-manager.js';

type Handlers = { [O in SfuOp]: (req: SfuRequest<O>) => Promise<unknown> };

/**
 * Request/reply signaling on `sfu.<instance>.<op>`. Every request is validated; every
 * failure is a reply with a stable code and a message naming the problem, never a crash.
 */
export class SignalingServer {
  private sub: Subscription | undefined;
  private readonly handlers: Handlers;

  constructor(
    private readonly nc: NatsConnection,
    private readonly instance: string,
    private readonly rooms: RoomManager,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
  ) {
    this.handlers = {
      createRoom: async (r) => {
        const room = await rooms.create(r.room, r.sampleFps);
        return { room: room.id, rtpCapabilities: room.router.rtpCapabilities };
      },
      closeRoom: async (r) => rooms.close(r.room),
      getRouterRtpCapabilities: async (r) => rooms.get(r.room).router.rtpCapabilities,
      createWebRtcTransport: (r) => rooms.get(r.room).createWebRtcTransport(r.peer, r.direction),
      connectTransport: (r) => rooms.get(r.room).connectTransport(r.transportId, r.dtlsParameters as unknown as types.DtlsParameters),
      restartIce: async (r) => ({ iceParameters: await rooms.get(r.room).restartIce(r.transportId) }),
      closeTransport: async (r) => rooms.get(r.room).closeTransport(r.transportId),
      produce: async (r) => ({ id: await rooms.get(r.room).produce(r.peer, r.transportId, r.stream, r.kind, r.rtpParameters as unknown as types.RtpParameters) }),
      closeProducer: async (r) => rooms.get(r.room).closeProducer(r.producerId),
      consume: (r) => rooms.get(r.room).consume(r.transportId, r.producerId, r.rtpCapabilities as unknown as types.RtpCapabilities),
      resumeConsumer: (r) => rooms.get(r.room).resumeConsumer(r.consumerId),
      setSampleRate: (r) => rooms.get(r.room).setSampleRate(r.fps),
      ingest: async (r) => ({ producerId: await rooms.get(r.room).ingest(r.stream, r.url, r.loop ?? false) }),
      stopIngest: (r) => rooms.get(r.room).stopIngest(r.stream),
      listStreams: async (r) => rooms.get(r.room).listStreams(),
      getRoom: async (r) => {
        const room = rooms.get(r.room);
        return { room: room.id, sampleFps: room.sampleRate, streams: room.listStreams() };
      },
    };
  }

  start(): void {
    this.sub = this.nc.subscribe(subjects.sfuAll(this.instance), { callback: (_err, msg) => void this.handle(msg) });
  }

  private async handle(msg: Msg): Promise<void> {
    const op = msg.subject.split('.').pop() as SfuOp;
    const reply = await this.dispatch(op, msg);
    if (msg.reply) msg.respond(encodeJson(sfuReply, reply));
  }

  private async dispatch(op: SfuOp, msg: Msg): Promise<SfuReply> {
    try {
      const validator = sfuRequestValidators[op];
      if (!validator) throw new RoomError('unknown_op', `no signaling operation ${op}`);
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        throw new ValidationError(`sfu ${op} request`, '', 'not valid JSON');
      }
      const req = validator.parse(body);
      const data = await (this.handlers[op] as (r: typeof req) => Promise<unknown>)(req);
      return { ok: true, data: data ?? null };
    } catch (err) {
      return this.failure(op, err as Error);
    }
  }

  private failure(op: string, err: Error): SfuReply {
    if (err instanceof RoomError) return { ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
    if (err instanceof ValidationError) {
      this.badMessages.inc({ subject_kind: 'sfu', reason: 'invalid' });
      return { ok: false, error: { code: 'invalid_request', message: err.message, field: err.field } };
    }
    // mediasoup reports malformed parameters as TypeError; its message says what is wrong.
    if (err instanceof TypeError) return { ok: false, error: { code: 'invalid_parameters', message: `${op}: ${err.message}` } };
    this.log.error({ err, op }, 'signaling request failed');
    return { ok: false, error: { code: 'internal', message: `${op}: ${err.message}` } };
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain();
  }
}
