import type { KV } from '@nats-io/kv';
import { LookoutError, roomPlacement, sfuInstanceInfo, type SfuInstanceInfo } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';

export interface RegistryOptions {
  instance: string;
  /** The SFU's buckets (stores.ts): the heartbeat and the placements. */
  stores: { sfuInstances: KV; roomPlacement: KV };
  /** The heartbeat bucket's TTL (REGISTRY_TTL_MS): it beats three times per TTL. */
  ttlMs: number;
  log: Logger;
}

/**
 * This instance's presence and its rooms in JetStream KV, so any gateway can route a room:
 * a heartbeat entry that expires with the bucket's TTL when the instance dies, and one
 * placement entry per room, claimed with create (or compare-and-set over a dead owner).
 */
export class Registry {
  private timer: NodeJS.Timeout | undefined;
  private readonly instance: string;
  private readonly instances: KV;
  private readonly placements: KV;
  private readonly ttlMs: number;
  private readonly log: Logger;

  constructor(opts: RegistryOptions) {
    this.instance = opts.instance;
    this.instances = opts.stores.sfuInstances;
    this.placements = opts.stores.roomPlacement;
    this.ttlMs = opts.ttlMs;
    this.log = opts.log;
  }

  /** Heartbeats every third of the TTL with the current load. */
  startHeartbeat(load: () => Omit<SfuInstanceInfo, 'instance' | 'updatedMs'>): void {
    const beat = () =>
      this.instances
        .put(this.instance, JSON.stringify(sfuInstanceInfo.parse({ instance: this.instance, updatedMs: Date.now(), ...load() })))
        .catch((err: Error) => this.log.warn({ err }, 'heartbeat failed'));
    void beat();
    this.timer = setInterval(beat, Math.max(1000, Math.floor(this.ttlMs / 3)));
  }

  async claim(room: string): Promise<void> {
    const value = JSON.stringify(roomPlacement.parse({ instance: this.instance, sinceMs: Date.now() }));
    try {
      await this.placements.create(room, value);
      return;
    } catch {
      // Someone holds it: us (a retry), a live instance, or a dead one.
    }
    const current = await this.placements.get(room);
    const owner = current?.operation === 'PUT' ? roomPlacement.parse(current.json()).instance : undefined;
    if (owner && owner !== this.instance && (await this.alive(owner))) {
      throw new LookoutError('room_elsewhere', `room: ${room} is served by SFU instance ${owner}`, 'room');
    }
    try {
      await this.placements.update(room, value, current?.revision ?? 0);
    } catch (err) {
      // Compare-and-set lost: another instance took it over at the same moment (adoption), unless that was us.
      const now = await this.placement(room).catch(() => undefined);
      if (now === this.instance) return;
      if (now) throw new LookoutError('room_elsewhere', `room: ${room} was just taken over by SFU instance ${now}`, 'room');
      throw err;
    }
  }

  /** The instance whose heartbeat is present (its entry expires TTL after its last beat). */
  async alive(instance: string): Promise<boolean> {
    const e = await this.instances.get(instance);
    return e?.operation === 'PUT';
  }

  /** The instance holding `room`'s placement, if any (alive or not). */
  async placement(room: string): Promise<string | undefined> {
    const e = await this.placements.get(room);
    return e?.operation === 'PUT' ? roomPlacement.parse(e.json()).instance : undefined;
  }

  async release(room: string): Promise<void> {
    const current = await this.placements.get(room);
    if (current?.operation === 'PUT' && roomPlacement.parse(current.json()).instance === this.instance) await this.placements.delete(room);
  }

  async close(rooms: string[]): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(rooms.map((r) => this.release(r).catch(() => undefined)));
    await this.instances.delete(this.instance).catch(() => undefined);
  }
}
