import { LookoutError, rpc, type SfuOp, type StreamInfo } from '@lookout/contracts';
import type { RequestContext } from '@lookout/service-kit';
import type { RoomManager } from '../../src/rooms/room-manager.js';
import { signalingError, signalingHandlers } from '../../src/signaling/signaling.js';

const caps = { codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }], headerExtensions: [] };
const stream: StreamInfo = { stream: 'cam', source: 'ingest', state: 'live', analysis: { state: 'live', sinceMs: 1, failures: 0 }, framesPublished: 3 };

/** A room as signaling sees it, answering what mediasoup would. */
const room = {
  id: 'r1',
  router: { rtpCapabilities: caps },
  sampleRate: 5,
  createWebRtcTransport: async () => ({ id: 't1', iceParameters: { usernameFragment: 'u', password: 'p' }, iceCandidates: [{ foundation: 'f', port: 1 }], dtlsParameters: { role: 'auto', fingerprints: [] } }),
  connectTransport: async () => undefined,
  restartIce: async () => ({ usernameFragment: 'u2', password: 'p2' }),
  closeTransport: () => undefined,
  produce: async () => 'p1',
  closeProducer: () => undefined,
  consume: async () => ({ id: 'c1', producerId: 'p1', kind: 'video' as const, rtpParameters: { codecs: [] } }),
  resumeConsumer: async () => undefined,
  setSampleRate: async () => undefined,
  ingest: async () => 'p2',
  stopIngest: async () => undefined,
  listStreams: () => [stream],
};

const get = (id: string) => {
  if (id !== 'r1') throw new LookoutError('unknown_room', `room: no room ${id}`, 'room');
  return room;
};
/** The manager's surface that signaling uses: rooms by id, and the operations it also records. */
const rooms = {
  create: async () => room,
  closeRoom: async () => undefined,
  get,
  room: async (id: string) => get(id),
  summary: async (id: string) => ({ room: get(id).id, sampleFps: room.sampleRate, streams: room.listStreams() }),
  setSampleRate: async (id: string) => void get(id),
  ingest: async (id: string) => get(id).ingest(),
  stopIngest: async (id: string) => void get(id),
} as unknown as RoomManager;

/** A valid request of each operation. */
const requests: Record<SfuOp, unknown> = {
  createRoom: { room: 'r1' },
  closeRoom: { room: 'r1' },
  getRouterRtpCapabilities: { room: 'r1' },
  createWebRtcTransport: { room: 'r1', peer: 'alice', direction: 'send' },
  connectTransport: { room: 'r1', transportId: 't1', dtlsParameters: {} },
  restartIce: { room: 'r1', transportId: 't1' },
  closeTransport: { room: 'r1', transportId: 't1' },
  produce: { room: 'r1', peer: 'alice', transportId: 't1', stream: 'cam', kind: 'video', rtpParameters: {} },
  closeProducer: { room: 'r1', producerId: 'p1' },
  consume: { room: 'r1', peer: 'bob', transportId: 't1', producerId: 'p1', rtpCapabilities: {} },
  resumeConsumer: { room: 'r1', consumerId: 'c1' },
  setSampleRate: { room: 'r1', fps: 2 },
  ingest: { room: 'r1', stream: 'cam', url: 'video.webm' },
  stopIngest: { room: 'r1', stream: 'cam' },
  listStreams: { room: 'r1' },
  getRoom: { room: 'r1' },
};

const ctx: RequestContext = { payload: new Uint8Array(0), subject: 'sfu.test.op' };

describe('SFU signaling handlers', () => {
  const handlers = signalingHandlers(rooms);

  it.each(Object.keys(requests) as SfuOp[])('%s answers what its contract declares', async (op) => {
    const request = rpc.sfu[op].request.parse(requests[op]);
    const result = await (handlers[op] as (r: unknown, c: RequestContext) => Promise<unknown>)(request, ctx);
    expect(() => rpc.sfu[op].reply.parse(result)).not.toThrow();
  });

  it('answers nothing (null) for the operations that return nothing', async () => {
    expect(await handlers.closeRoom({ room: 'r1' }, ctx)).toBeNull();
    expect(await handlers.closeTransport({ room: 'r1', transportId: 't1' }, ctx)).toBeNull();
  });

  it('lets a room error through as it is, and turns only mediasoup\'s TypeError into invalid_parameters', async () => {
    await expect(Promise.resolve().then(() => handlers.listStreams({ room: 'nowhere' }, ctx))).rejects.toMatchObject({ code: 'unknown_room', field: 'room' });
    expect(signalingError(new TypeError('missing codecs'))).toMatchObject({ code: 'invalid_parameters', message: 'missing codecs' });
    expect(signalingError(new Error('worker gone'))).toBeUndefined();
  });
});
