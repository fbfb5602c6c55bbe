import { Type } from '@sinclair/typebox';
import { IngestCreate, RoomAnalysisConfig, RoomCreate, RoomInfo, TokenReply, TokenRequest, type IngestCreate as Ingest, type RoomAnalysisConfig as Config, type RoomCreate as Create, type TokenRequest as TokenReq } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import type { RoomService } from './service.js';

const tag = 'rooms';

/** Room tokens, rooms (SFU + analysis config), ingest. */
export function registerRoomRoutes(api: ApiRouter, rooms: RoomService): void {
  api.route({ method: 'post', path: '/tokens', tag: 'auth', summary: 'Issue a short-lived room token (publisher or viewer, one room)', access: 'admin', body: TokenRequest, response: TokenReply, status: 201 }, (req) =>
    rooms.issueToken(req.body as TokenReq),
  );

  api.route({ method: 'post', path: '/rooms', tag, summary: 'Create a room on the least-loaded SFU, with its analysis config', access: 'admin', body: RoomCreate, response: RoomInfo, status: 201 }, (req) => {
    const body = req.body as Create;
    return rooms.create(body.room, body.sampleFps, body.config);
  });

  api.route({ method: 'get', path: '/rooms', tag, summary: 'List rooms', access: 'admin', response: Type.Object({ rooms: Type.Array(Type.Object({ room: Type.String(), instance: Type.String(), sinceMs: Type.Integer() })) }) }, async () => ({
    rooms: await rooms.list(),
  }));

  api.route({ method: 'get', path: '/rooms/:room', tag, summary: 'A room: its SFU, streams and analysis config', access: 'room', response: RoomInfo }, (req) => rooms.info(String(req.params.room)));

  api.route({ method: 'delete', path: '/rooms/:room', tag, summary: 'Close a room (every transport, stream and tap)', access: 'admin', response: Type.Object({ room: Type.String() }) }, async (req) => {
    const room = String(req.params.room);
    await rooms.close(room);
    return { room };
  });

  registerConfigRoutes(api, rooms);
  registerIngestRoutes(api, rooms);
}

function registerConfigRoutes(api: ApiRouter, rooms: RoomService): void {
  api.route({ method: 'get', path: '/rooms/:room/config', tag, summary: 'The room\'s analysis config (analyzers, cadences, rule thresholds)', access: 'room', response: RoomAnalysisConfig }, (req) => rooms.config(String(req.params.room)));

  api.route(
    { method: 'put', path: '/rooms/:room/config', tag, summary: 'Replace the room\'s analysis config; detectors and reid apply it live', access: 'admin', body: RoomAnalysisConfig, response: RoomAnalysisConfig },
    async (req) => {
      await rooms.setConfig(String(req.params.room), req.body as Config);
      return req.body as Config;
    },
  );

  api.route(
    { method: 'put', path: '/rooms/:room/sample-rate', tag, summary: 'Frames per second sampled from each stream of the room', access: 'admin', body: Type.Object({ fps: Type.Number({ minimum: 0.1, maximum: 30 }) }, { additionalProperties: false }) },
    async (req) => {
      const fps = (req.body as { fps: number }).fps;
      await rooms.setSampleRate(String(req.params.room), fps);
      return { fps };
    },
  );
}

function registerIngestRoutes(api: ApiRouter, rooms: RoomService): void {
  api.route(
    {
      method: 'post',
      path: '/rooms/:room/ingest',
      tag,
      summary: 'Add an RTSP URL or a file as a stream of the room',
      access: 'admin',
      body: IngestCreate,
      response: Type.Object({ room: Type.String(), stream: Type.String(), producerId: Type.String() }),
      status: 201,
    },
    async (req) => {
      const body = req.body as Ingest;
      const room = String(req.params.room);
      return { room, stream: body.stream, producerId: await rooms.ingest(room, body) };
    },
  );

  api.route({ method: 'delete', path: '/rooms/:room/ingest/:stream', tag, summary: 'Stop an ingested stream', access: 'admin' }, async (req) => {
    await rooms.stopIngest(String(req.params.room), String(req.params.stream));
    return { stream: req.params.stream };
  });
}
