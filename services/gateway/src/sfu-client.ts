import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeJson, roomPlacement, sfuInstanceInfo, sfuReply, subjects, type SfuInstanceInfo, type SfuOp } from '@lookout/contracts';
import { ApiError } from './http/errors.js';

const SFU_ERROR_STATUS: Record<string, number> = {
  unknown_room: 404,
  unknown_transport: 404,
  unknown_producer: 404,
  unknown_consumer: 404,
  unknown_stream: 404,
  stream_exists: 409,
  room_elsewhere: 409,
  invalid_request: 400,
  invalid_parameters: 400,
  invalid_url: 400,
  unreadable_file: 400,
  file_ingest_disabled: 400,
  cannot_consume: 400,
  no_worker: 503,
};

/**
 * Talks to the SFU that owns a room. Placement (room → instance) is in KV, written by the
 * SFUs themselves; a new room goes to the live instance with the fewest rooms. The
 * gateway keeps nothing: any gateway can route any room.
 */
export class SfuClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly placement: KV,
    private readonly instances: KV,
    private readonly timeoutMs = 20_000,
  ) {}

  /** The instance owning `room`, or undefined. */
  async owner(room: string): Promise<{ instance: string; sinceMs: number } | undefined> {
    const e = await this.placement.get(room).catch(() => null);
    if (!e || e.operation !== 'PUT') return undefined;
    const p = roomPlacement.parse(e.json());
    return (await this.isAlive(p.instance)) ? p : undefined;
  }

  /** The instance's heartbeat is present (its entry expires when the heartbeats stop). */
  private async isAlive(instance: string): Promise<boolean> {
    const e = await this.instances.get(instance).catch(() => null);
    return e?.operation === 'PUT' && sfuInstanceInfo.is(e.json());
  }

  async alive(): Promise<SfuInstanceInfo[]> {
    const out: SfuInstanceInfo[] = [];
    // Before any SFU started, the bucket does not exist yet: no instance is alive.
    const keys = await this.instances.keys().catch(() => undefined);
    if (!keys) return out;
    for await (const key of keys) {
      const e = await this.instances.get(key);
      if (e?.operation === 'PUT') {
        try {
          out.push(sfuInstanceInfo.parse(e.json()));
        } catch {
          // a malformed heartbeat is not a live instance
        }
      }
    }
    return out;
  }

  /** Creates the room on the least-loaded live SFU, or returns its current owner. */
  async ensureRoom(room: string, sampleFps?: number): Promise<string> {
    const existing = await this.owner(room);
    if (existing) return existing.instance;
    const candidates = (await this.alive()).sort((a, b) => a.rooms - b.rooms || a.streams - b.streams);
    const target = candidates[0];
    if (!target) throw new ApiError(503, 'no_sfu', 'no SFU instance is available');
    await this.call(target.instance, 'createRoom', { room, ...(sampleFps ? { sampleFps } : {}) });
    return target.instance;
  }

  /** One operation on the room's owner; 404 when nobody owns it. */
  async roomCall<T = unknown>(room: string, op: SfuOp, body: Record<string, unknown>): Promise<T> {
    const owner = await this.owner(room);
    if (!owner) throw new ApiError(404, 'not_found', `room: no room ${room}`, 'room');
    return this.call<T>(owner.instance, op, { room, ...body });
  }

  async call<T = unknown>(instance: string, op: SfuOp, body: unknown): Promise<T> {
    let data: Uint8Array;
    try {
      data = (await this.nc.request(subjects.sfu(instance, op), JSON.stringify(body), { timeout: this.timeoutMs })).data;
    } catch (err) {
      throw new ApiError(503, 'sfu_unavailable', `sfu ${instance}: ${(err as Error).message}`);
    }
    const reply = decodeJson(sfuReply, data);
    if (!reply.ok) throw new ApiError(SFU_ERROR_STATUS[reply.error.code] ?? 502, reply.error.code, reply.error.message, reply.error.field);
    return reply.data as T;
  }
}
