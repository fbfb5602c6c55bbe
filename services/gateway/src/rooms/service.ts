import type { KV } from '@nats-io/kv';
import { LookoutError, roomAnalysisConfig, type IngestCreate, type RoomAnalysisConfig, type StreamInfo, type TokenReply, type TokenRequest } from '@lookout/contracts';
import { byCodeUnits } from '@lookout/service-kit';
import type { SfuClient } from '../clients/sfu.js';
import type { RoomTokens } from '../http/auth.js';
import type { TurnCredentials } from '../http/turn-credentials.js';

export interface RoomInfo {
  room: string;
  instance: string;
  sinceMs: number;
  sampleFps: number;
  streams: StreamInfo[];
  config: RoomAnalysisConfig;
}

export interface RoomsOptions {
  sfu: SfuClient;
  /** `lookout_room_config`: room → analysis config, followed live by detectors and reid. */
  roomConfig: KV;
  /** `lookout_sfu_rooms`: the SFUs' room records, forgotten here when a room is deleted while no live SFU holds it. */
  sfuRooms: KV;
  tokens: RoomTokens;
  /** TOKEN_TTL_S: a token's lifetime when the request names none. */
  tokenTtlS: number;
  /** TURN_URLS: ICE servers with credentials for the token's peer, expiring with it (none: no TURN). */
  turn?: TurnCredentials | undefined;
}

/**
 * Rooms: their SFU (placement, streams, ingest) and their analysis config, and the room
 * tokens that open them. Built once by main.ts; failures are LookoutErrors.
 */
export class RoomService {
  constructor(private readonly o: RoomsOptions) {}

  async issueToken(request: TokenRequest): Promise<TokenReply> {
    const exp = Math.floor(Date.now() / 1000) + (request.ttlSeconds ?? this.o.tokenTtlS);
    const peer = request.peer ?? `p${Math.random().toString(36).slice(2, 10)}`;
    const token = await this.o.tokens.sign({ room: request.room, role: request.role, peer, exp });
    const ice = this.o.turn ? { iceServers: this.o.turn.issue(peer, exp * 1000) } : {};
    return { token, room: request.room, role: request.role, peer, expiresMs: exp * 1000, ...ice };
  }

  /** Creates the room on the least-loaded SFU with its config; `exists` when it has a live owner. */
  async create(room: string, sampleFps: number | undefined, config: RoomAnalysisConfig | undefined): Promise<RoomInfo> {
    if (await this.o.sfu.owner(room)) throw new LookoutError('exists', `room: ${room} already exists`, 'room');
    if (config) await this.setConfig(room, config);
    await this.o.sfu.ensureRoom(room, sampleFps);
    return this.info(room);
  }

  /** Rooms with a live owner, by id. */
  async list(): Promise<Array<{ room: string; instance: string; sinceMs: number }>> {
    const rooms = [];
    for (const room of await this.o.sfu.placedRooms()) {
      const owner = await this.o.sfu.owner(room);
      if (owner) rooms.push({ room, ...owner });
    }
    return rooms.sort((a, b) => byCodeUnits(a.room, b.room));
  }

  async info(room: string): Promise<RoomInfo> {
    const owner = await this.o.sfu.owner(room);
    if (!owner) throw new LookoutError('not_found', `room: no room ${room}`, 'room');
    const info = await this.o.sfu.call(owner.instance, 'getRoom', { room });
    return { room, instance: owner.instance, sinceMs: owner.sinceMs, sampleFps: info.sampleFps, streams: info.streams, config: await this.config(room) };
  }

  async close(room: string): Promise<void> {
    const owner = await this.o.sfu.owner(room);
    if (owner) return void (await this.o.sfu.call(owner.instance, 'closeRoom', { room }));
    // Its SFU died and no survivor has built it again yet: forgetting its record closes it,
    // or the next SFU to scan the records would bring it back.
    const record = await this.o.sfuRooms.get(room);
    if (record?.operation !== 'PUT') throw new LookoutError('not_found', `room: no room ${room}`, 'room');
    await this.o.sfuRooms.delete(room);
  }

  /** The room's analysis config; `{}` (every default) when none was set. */
  async config(room: string): Promise<RoomAnalysisConfig> {
    const e = await this.o.roomConfig.get(room);
    return e?.operation === 'PUT' ? roomAnalysisConfig.parse(e.json()) : {};
  }

  async setConfig(room: string, config: RoomAnalysisConfig): Promise<void> {
    await this.o.roomConfig.put(room, JSON.stringify(config));
  }

  async setSampleRate(room: string, fps: number): Promise<void> {
    await this.o.sfu.roomCall(room, 'setSampleRate', { fps });
  }

  /** Adds an RTSP URL or a file as a stream of the room; its producer id. */
  async ingest(room: string, request: IngestCreate): Promise<string> {
    const r = await this.o.sfu.roomCall(room, 'ingest', { stream: request.stream, url: request.url, ...(request.loop !== undefined ? { loop: request.loop } : {}) });
    return r.producerId;
  }

  async stopIngest(room: string, stream: string): Promise<void> {
    await this.o.sfu.roomCall(room, 'stopIngest', { stream });
  }
}
