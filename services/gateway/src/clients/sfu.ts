import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { LookoutError, roomPlacement, rpc, sfuInstanceInfo, type RoomPlacement, type SfuInstanceInfo, type SfuOp, type SfuReplyData, type SfuRequest } from '@lookout/contracts';
import { call } from '@lookout/service-kit';

/** The request of `op` on a room, without the room (the client adds it). */
export type RoomRequest<O extends SfuOp> = Omit<SfuRequest<O>, 'room'>;

export interface SfuStores {
  /** room → RoomPlacement, written by the SFUs. */
  roomPlacement: KV;
  /** instance → SfuInstanceInfo heartbeat, expiring when the instance dies. */
  sfuInstances: KV;
}

/**
 * Talks to the SFU that owns a room, through the operation table (`rpc.sfu`). Placement
 * (room → instance) is in KV, written by the SFUs themselves; a new room goes to the live
 * instance with the fewest rooms. The gateway keeps nothing: any gateway can route any
 * room. Failures are LookoutErrors: the SFU's own code, `sfu_unavailable` when the owner
 * does not answer, `no_sfu` when none is alive, `not_found` (field `room`) for a room
 * nobody owns.
 */
export class SfuClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: SfuStores,
  ) {}

  /** The live instance owning `room`, or undefined. */
  async owner(room: string): Promise<RoomPlacement | undefined> {
    const e = await this.kv.roomPlacement.get(room).catch(() => null);
    if (!e || e.operation !== 'PUT') return undefined;
    const p = roomPlacement.parse(e.json());
    return (await this.isAlive(p.instance)) ? p : undefined;
  }

  /** Every room with a placement entry (live owner or not). */
  async placedRooms(): Promise<string[]> {
    const keys = await this.kv.roomPlacement.keys().catch(() => undefined);
    const rooms: string[] = [];
    if (keys) for await (const room of keys) rooms.push(room);
    return rooms;
  }

  /** The instance's heartbeat is present (its entry expires when the heartbeats stop). */
  private async isAlive(instance: string): Promise<boolean> {
    const e = await this.kv.sfuInstances.get(instance).catch(() => null);
    return e?.operation === 'PUT' && sfuInstanceInfo.is(e.json());
  }

  async alive(): Promise<SfuInstanceInfo[]> {
    const out: SfuInstanceInfo[] = [];
    const keys = await this.kv.sfuInstances.keys().catch(() => undefined);
    if (!keys) return out;
    for await (const key of keys) {
      const e = await this.kv.sfuInstances.get(key);
      if (e?.operation !== 'PUT') continue;
      // A malformed heartbeat is not a live instance.
      const info: unknown = e.json();
      if (sfuInstanceInfo.is(info)) out.push(info);
    }
    return out;
  }

  /** Creates the room on the least-loaded live SFU, or returns its current owner. */
  async ensureRoom(room: string, sampleFps?: number): Promise<string> {
    const existing = await this.owner(room);
    if (existing) return existing.instance;
    const candidates = (await this.alive()).sort((a, b) => a.rooms - b.rooms || a.streams - b.streams);
    const target = candidates[0];
    if (!target) throw new LookoutError('no_sfu', 'no SFU instance is available');
    await this.call(target.instance, 'createRoom', { room, ...(sampleFps ? { sampleFps } : {}) });
    return target.instance;
  }

  /** One operation on the room's owner; `not_found` when nobody owns it. */
  async roomCall<O extends SfuOp>(room: string, op: O, request: RoomRequest<O>): Promise<SfuReplyData<O>> {
    const owner = await this.owner(room);
    if (!owner) throw new LookoutError('not_found', `room: no room ${room}`, 'room');
    return this.call(owner.instance, op, { ...request, room } as SfuRequest<O>);
  }

  /** One operation on one instance; an instance that does not answer is `sfu_unavailable`. */
  async call<O extends SfuOp>(instance: string, op: O, request: SfuRequest<O>): Promise<SfuReplyData<O>> {
    try {
      return (await call(this.nc, rpc.sfu[op], request as never, { instance })) as SfuReplyData<O>;
    } catch (err) {
      if (err instanceof LookoutError && err.code === 'unavailable') throw new LookoutError('sfu_unavailable', `sfu ${instance}: ${err.message}`);
      throw err;
    }
  }
}
