import { Type } from '@sinclair/typebox';
import { IngestCreate, RoomAnalysisConfig, RoomCreate, RoomInfo, TokenReply, TokenRequest, roomAnalysisConfig, type IngestCreate as Ingest, type RoomCreate as Create, type TokenRequest as TokenReq } from '@lookout/contracts';
import { byCodeUnits } from '@lookout/service-kit';
import type { ApiRouter } from '../http/api-router.js';
import { ApiError } from '../http/errors.js';
import type { GatewayDeps } from '../deps.js';

/** Room tokens, rooms (SFU + analysis config), ingest. */
export function registerRoomRoutes(api: ApiRouter, d: GatewayDeps): void {
  api.route({ method: 'post', path: '/tokens', tag: 'auth', summary: 'Issue a short-lived room token (publisher or viewer, one room)', access: 'admin', body: TokenRequest, response: TokenReply, status: 201 }, (req) => {
    const body = req.body as TokenReq;
    const exp = Math.floor(Date.now() / 1000) + (body.ttlSeconds ?? d.config.tokenTtlS);
    const peer = body.peer ?? `p${Math.random().toString(36).slice(2, 10)}`;
    return { token: d.auth.tokens.sign({ room: body.room, role: body.role, peer, exp }), room: body.room, role: body.role, peer, expiresMs: exp * 1000 };
  });

  api.route({ method: 'post', path: '/rooms', tag: 'rooms', summary: 'Create a room on the least-loaded SFU, with its analysis config', access: 'admin', body: RoomCreate, response: RoomInfo, status: 201 }, async (req) => {
    const body = req.body as Create;
    if (await d.sfu.owner(body.room)) throw new ApiError(409, 'exists', `room: ${body.room} already exists`, 'room');
    if (body.config) await d.kv.roomConfig.put(body.room, JSON.stringify(body.config));
    await d.sfu.ensureRoom(body.room, body.sampleFps);
    return roomInfo(d, body.room);
  });

  api.route({ method: 'get', path: '/rooms', tag: 'rooms', summary: 'List rooms', access: 'admin', response: Type.Object({ rooms: Type.Array(Type.Object({ room: Type.String(), instance: Type.String(), sinceMs: Type.Integer() })) }) }, async () => {
    const rooms = [];
    const keys = await d.kv.placement.keys().catch(() => undefined);
    if (keys) {
      for await (const room of keys) {
        const owner = await d.sfu.owner(room);
        if (owner) rooms.push({ room, ...owner });
      }
    }
    return { rooms: rooms.sort((a, b) => byCodeUnits(a.room, b.room)) };
  });

  api.route({ method: 'get', path: '/rooms/:room', tag: 'rooms', summary: 'A room: its SFU, streams and analysis config', access: 'room', response: RoomInfo }, (req) => roomInfo(d, String(req.params.room)));

  api.route({ method: 'delete', path: '/rooms/:room', tag: 'rooms', summary: 'Close a room (every transport, stream and tap)', access: 'admin', response: Type.Object({ room: Type.String() }) }, async (req) => {
    const room = String(req.params.room);
    await d.sfu.roomCall(room, 'closeRoom', {});
    return { room };
  });

  api.route({ method: 'get', path: '/rooms/:room/config', tag: 'rooms', summary: 'The room\'s analysis config (analyzers, cadences, rule thresholds)', access: 'room', response: RoomAnalysisConfig }, async (req) => roomConfigOf(d, String(req.params.room)));

  api.route(
    { method: 'put', path: '/rooms/:room/config', tag: 'rooms', summary: 'Replace the room\'s analysis config; detectors and reid apply it live', access: 'admin', body: RoomAnalysisConfig, response: RoomAnalysisConfig },
    async (req) => {
      await d.kv.roomConfig.put(String(req.params.room), JSON.stringify(req.body));
      return req.body as unknown;
    },
  );

  api.route(
    { method: 'put', path: '/rooms/:room/sample-rate', tag: 'rooms', summary: 'Frames per second sampled from each stream of the room', access: 'admin', body: Type.Object({ fps: Type.Number({ minimum: 0.1, maximum: 30 }) }, { additionalProperties: false }) },
    async (req) => {
      const fps = (req.body as { fps: number }).fps;
      await d.sfu.roomCall(String(req.params.room), 'setSampleRate', { fps });
      return { fps };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/rooms/:room/ingest',
      tag: 'rooms',
      summary: 'Add an RTSP URL or a file as a stream of the room',
      access: 'admin',
      body: IngestCreate,
      response: Type.Object({ room: Type.String(), stream: Type.String(), producerId: Type.String() }),
      status: 201,
    },
    async (req) => {
      const body = req.body as Ingest;
      const room = String(req.params.room);
      const r = await d.sfu.roomCall<{ producerId: string }>(room, 'ingest', { stream: body.stream, url: body.url, ...(body.loop !== undefined ? { loop: body.loop } : {}) });
      return { room, stream: body.stream, producerId: r.producerId };
    },
  );

  api.route({ method: 'delete', path: '/rooms/:room/ingest/:stream', tag: 'rooms', summary: 'Stop an ingested stream', access: 'admin' }, async (req) => {
    await d.sfu.roomCall(String(req.params.room), 'stopIngest', { stream: String(req.params.stream) });
    return { stream: req.params.stream };
  });
}

async function roomConfigOf(d: GatewayDeps, room: string): Promise<unknown> {
  const e = await d.kv.roomConfig.get(room);
  return e?.operation === 'PUT' ? roomAnalysisConfig.parse(e.json()) : {};
}

async function roomInfo(d: GatewayDeps, room: string): Promise<unknown> {
  const owner = await d.sfu.owner(room);
  if (!owner) throw new ApiError(404, 'not_found', `room: no room ${room}`, 'room');
  const info = await d.sfu.call<{ sampleFps: number; streams: unknown[] }>(owner.instance, 'getRoom', { room });
  return { room, instance: owner.instance, sinceMs: owner.sinceMs, sampleFps: info.sampleFps, streams: info.streams, config: await roomConfigOf(d, room) };
}
