import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, sfuEvent, subjects, type SfuEvent } from '@lookout/contracts';
import { Gauge, type Logger, type Registry as Metrics } from '@lookout/service-kit';
import type { types } from 'mediasoup';
import type { Registry } from './registry.js';
import { Room, type RoomContext } from './room.js';
import { RoomError } from './room-error.js';
import type { WorkerPool } from './worker-pool.js';

/** Rooms of this instance: placed on the least-loaded worker, closed as a whole. */
export class RoomManager {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly registry: Registry,
    private readonly ctx: RoomContext,
    private readonly defaultFps: number,
    private readonly nc: NatsConnection,
    private readonly instance: string,
    private readonly log: Logger,
    metrics: Metrics,
    private readonly codecs: types.RtpCodecCapability[],
  ) {
    pool.onWorkerDied = (_index, pid) => void this.onWorkerDied(pid);
    const rooms = this.rooms;
    new Gauge({ name: 'lookout_sfu_rooms', help: 'Open rooms', registers: [metrics], collect() { this.set(rooms.size); } });
    new Gauge({
      name: 'lookout_sfu_webrtc_transports',
      help: 'Open WebRTC transports',
      registers: [metrics],
      collect() {
        this.set([...rooms.values()].reduce((n, r) => n + r.transportCount, 0));
      },
    });
    const streams = () => this.streamCount;
    new Gauge({ name: 'lookout_sfu_streams', help: 'Video streams (webcams and ingests)', registers: [metrics], collect() { this.set(streams()); } });
    new Gauge({
      name: 'lookout_sfu_stream_analysis',
      help: 'Video streams by analysis state (starting, live, retrying, unavailable, paused): is each one sampled onto NATS',
      labelNames: ['state'],
      registers: [metrics],
      collect() {
        const counts: Record<string, number> = { starting: 0, live: 0, retrying: 0, unavailable: 0, paused: 0 };
        for (const room of rooms.values()) for (const state of room.streams.analysisStates()) counts[state]! += 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  get size(): number {
    return this.rooms.size;
  }

  get streamCount(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.streamCount;
    return n;
  }

  ids(): string[] {
    return [...this.rooms.keys()];
  }

  /** Creates the room (idempotent: an existing room is returned as it is). */
  create(id: string, fps = this.defaultFps): Promise<Room> {
    const existing = this.rooms.get(id);
    if (existing) return Promise.resolve(existing);
    let pending = this.creating.get(id);
    if (!pending) {
      pending = this.build(id, fps).finally(() => this.creating.delete(id));
      this.creating.set(id, pending);
    }
    return pending;
  }

  private async build(id: string, fps: number): Promise<Room> {
    await this.registry.claim(id);
    const load = new Map<number, number>();
    for (const r of this.rooms.values()) load.set(r.workerPid, (load.get(r.workerPid) ?? 0) + 1);
    const worker = this.pool.live().sort((a, b) => (load.get(a.pid) ?? 0) - (load.get(b.pid) ?? 0))[0];
    if (!worker) throw new RoomError('no_worker', 'no mediasoup worker is available');
    const router = await worker.createRouter({ mediaCodecs: this.codecs });
    const room = new Room(id, router, worker.pid, fps, this.ctx);
    this.rooms.set(id, room);
    this.log.info({ room: id, worker: worker.pid }, 'room created');
    return room;
  }

  get(id: string): Room {
    const room = this.rooms.get(id);
    if (!room) throw new RoomError('unknown_room', `room: no room ${id} on SFU instance ${this.instance}`, 'room');
    return room;
  }

  async close(id: string): Promise<void> {
    const room = this.get(id);
    this.rooms.delete(id);
    await room.close();
    await this.registry.release(id);
    this.publish({ type: 'room_closed', room: id });
    this.log.info({ room: id }, 'room closed');
  }

  /** The worker's routers are gone: tell each room's clients so they rejoin (on a new router). */
  private async onWorkerDied(pid: number): Promise<void> {
    for (const [id, room] of this.rooms) {
      if (room.workerPid !== pid) continue;
      this.rooms.delete(id);
      await room.close();
      await this.registry.release(id).catch(() => undefined);
      this.publish({ type: 'worker_died', room: id, instance: this.instance });
    }
  }

  publish(event: SfuEvent): void {
    this.nc.publish(subjects.sfuEvents(event.room), encodeJson(sfuEvent, event));
  }

  async closeAll(): Promise<void> {
    const ids = this.ids();
    await Promise.all(ids.map((id) => this.close(id).catch((err: Error) => this.log.error({ err, room: id }, 'close failed'))));
  }
}
