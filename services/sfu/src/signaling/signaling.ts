import type { types } from 'mediasoup';
import { LookoutError, rpc } from '@lookout/contracts';
import type { Handler, Responder, RpcServer } from '@lookout/service-kit';
import type { RoomManager } from '../rooms/room-manager.js';

type SfuOps = typeof rpc.sfu;
export type SignalingHandlers = { [O in keyof SfuOps]: Handler<SfuOps[O]> };

/**
 * What each signaling operation does with the rooms. Requests arrive validated against
 * contracts (sfu.ts); a LookoutError thrown below (unknown_room, stream_exists, …) is the
 * error reply. mediasoup's objects are checked for shape by the contract and in depth by
 * mediasoup itself, hence the casts.
 */
export function signalingHandlers(rooms: RoomManager): SignalingHandlers {
  return {
    createRoom: async (r) => {
      const room = await rooms.create(r.room, r.sampleFps);
      return { room: room.id, rtpCapabilities: asRecord(room.router.rtpCapabilities) };
    },
    closeRoom: (r) => rooms.closeRoom(r.room).then(done),
    getRouterRtpCapabilities: async (r) => asRecord((await rooms.room(r.room)).router.rtpCapabilities),
    createWebRtcTransport: async (r) => {
      const t = await (await rooms.room(r.room)).createWebRtcTransport(r.peer, r.direction);
      return { id: t.id, iceParameters: asRecord(t.iceParameters), iceCandidates: t.iceCandidates.map(asRecord), dtlsParameters: asRecord(t.dtlsParameters) };
    },
    connectTransport: async (r) => (await rooms.room(r.room)).connectTransport(r.transportId, r.dtlsParameters as unknown as types.DtlsParameters).then(done),
    restartIce: async (r) => ({ iceParameters: asRecord(await (await rooms.room(r.room)).restartIce(r.transportId)) }),
    closeTransport: async (r) => {
      (await rooms.room(r.room)).closeTransport(r.transportId);
      return null;
    },
    produce: async (r) => ({ id: await (await rooms.room(r.room)).produce(r.peer, r.transportId, r.stream, r.kind, r.rtpParameters as unknown as types.RtpParameters) }),
    closeProducer: async (r) => {
      (await rooms.room(r.room)).closeProducer(r.producerId);
      return null;
    },
    consume: async (r) => {
      const c = await (await rooms.room(r.room)).consume(r.transportId, r.producerId, r.rtpCapabilities as unknown as types.RtpCapabilities);
      return { ...c, rtpParameters: asRecord(c.rtpParameters) };
    },
    resumeConsumer: async (r) => (await rooms.room(r.room)).resumeConsumer(r.consumerId).then(done),
    setSampleRate: (r) => rooms.setSampleRate(r.room, r.fps).then(done),
    ingest: async (r) => ({ producerId: await rooms.ingest(r.room, r.stream, r.url, r.loop ?? false) }),
    stopIngest: (r) => rooms.stopIngest(r.room, r.stream).then(done),
    listStreams: async (r) => (await rooms.summary(r.room)).streams,
    getRoom: (r) => rooms.summary(r.room),
  };
}

/** The reply of an operation that answers nothing (its contract's `null`). */
const done = (): null => null;

/** mediasoup's typed objects are plain JSON objects on the wire. */
const asRecord = (o: object) => o as Record<string, unknown>;

/** mediasoup reports malformed parameters as TypeError; its message says what is wrong. */
export function signalingError(err: unknown): LookoutError | undefined {
  return err instanceof TypeError ? new LookoutError('invalid_parameters', err.message) : undefined;
}

/**
 * Request/reply signaling on `sfu.<instance>.<op>`, one subscription per declared
 * operation. Every failure is a reply with a stable code and a message naming the
 * problem, never a crash. stop() drains, so requests in flight are answered.
 */
export function serveSignaling(server: RpcServer, rooms: RoomManager, instance: string): Responder {
  return server.serveAll(rpc.sfu, signalingHandlers(rooms), { instance, mapError: signalingError });
}
