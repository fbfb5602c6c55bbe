import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, LookoutError, sfuEvent, subjects, type SfuEvent } from '@lookout/contracts';
import { Gauge, type Logger, type Registry as Metrics } from '@lookout/service-kit';
import type { types } from 'mediasoup';
import { TapMetrics } from '../tap/tap-metrics.js';
import type { WorkerPool } from '../workers/worker-pool.js';
import type { Registry } from './registry.js';
import { Room, type RoomContext } from './room.js';

/** How rooms handle media: the parts of a room's context that come from configuration. */
export type MediaSettings = Pick<RoomContext, 'ports' | 'ffmpegPath' | 'maxWidth' | 'tapTiming' | 'ingest' | 'webRtc' | 'limits'>;

export interface RoomManagerOptions {
  /** This SFU instance (room placements, worker_died events, error messages). */
  instance: string;
  pool: WorkerPool;
  registry: Registry;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  /** What each room's router offers, preferred first. */
  codecs: types.RtpCodecCapability[];
  /** Frames per second sampled from a room that does not ask for another rate. */
  defaultFps: number;
  media: MediaSettings;
}

/**
 * Rooms of this instance: placed on the least-loaded worker, closed as a whole. Its events
 * (stream and analysis states, closed rooms, lost workers) go out on `sfuevents.<room>`.
 * close() closes every room and stops following the pool, which main.ts closes after it.
 */
export class RoomManager {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly ctx: RoomContext;
  private readonly onWorkerDied = (_index: number, pid: number) => void this.workerDied(pid);

  constructor(private readonly o: RoomManagerOptions) {
    this.ctx = {
      ...o.media,
      nc: o.nc,
      log: o.log,
      metrics: new TapMetrics(o.metrics),
      onStreamState: (room, stream, state, error) => this.publish({ type: 'stream_state', room, stream, state, ...(error ? { error } : {}) }),
      onAnalysisState: (room, stream, analysis) => this.publish({ type: 'analysis_state', room, stream, analysis }),
    };
    o.pool.on('workerdied', this.onWorkerDied);
    roomGauges(o.metrics, this.rooms);
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
  create(id: string, fps = this.o.defaultFps): Promise<Room> {
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
    await this.o.registry.claim(id);
    const load = new Map<number, number>();
    for (const r of this.rooms.values()) load.set(r.workerPid, (load.get(r.workerPid) ?? 0) + 1);
    const worker = this.o.pool.live().sort((a, b) => (load.get(a.pid) ?? 0) - (load.get(b.pid) ?? 0))[0];
    if (!worker) throw new LookoutError('no_worker', 'no mediasoup worker is available');
    const router = await worker.createRouter({ mediaCodecs: this.o.codecs });
    const room = new Room(id, router, worker.pid, fps, this.ctx);
    this.rooms.set(id, room);
    this.o.log.info({ room: id, worker: worker.pid }, 'room created');
    return room;
  }

  get(id: string): Room {
    const room = this.rooms.get(id);
    if (!room) throw new LookoutError('unknown_room', `room: no room ${id} on SFU instance ${this.o.instance}`, 'room');
    return room;
  }

  async closeRoom(id: string): Promise<void> {
    const room = this.get(id);
    this.rooms.delete(id);
    await room.close();
    await this.o.registry.release(id);
    this.publish({ type: 'room_closed', room: id });
    this.o.log.info({ room: id }, 'room closed');
  }

  /** The worker's routers are gone: tell each room's clients so they rejoin (on a new router). */
  private async workerDied(pid: number): Promise<void> {
    for (const [id, room] of this.rooms) {
      if (room.workerPid !== pid) continue;
      this.rooms.delete(id);
      await room.close();
      await this.o.registry.release(id).catch(() => undefined);
      this.publish({ type: 'worker_died', room: id, instance: this.o.instance });
    }
  }

  private publish(event: SfuEvent): void {
    this.o.nc.publish(subjects.sfuEvents(event.room), encodeJson(sfuEvent, event));
  }

  /** Closes every room (each gives its placement back) and stops following the pool. */
  async close(): Promise<void> {
    this.o.pool.off('workerdied', this.onWorkerDied);
    const ids = this.ids();
    await Promise.all(ids.map((id) => this.closeRoom(id).catch((err: Error) => this.o.log.error({ err, room: id }, 'close failed'))));
  }
}

/** The SFU's gauges of rooms, transports, streams and their analysis, read at each scrape. */
function roomGauges(metrics: Metrics, rooms: ReadonlyMap<string, Room>): void {
  const registers = [metrics];
  new Gauge({ name: 'lookout_sfu_rooms', help: 'Open rooms', registers, collect() { this.set(rooms.size); } });
  new Gauge({
    name: 'lookout_sfu_webrtc_transports',
    help: 'Open WebRTC transports',
    registers,
    collect() {
      this.set([...rooms.values()].reduce((n, r) => n + r.transportCount, 0));
    },
  });
  new Gauge({
    name: 'lookout_sfu_streams',
    help: 'Video streams (webcams and ingests)',
    registers,
    collect() {
      this.set([...rooms.values()].reduce((n, r) => n + r.streamCount, 0));
    },
  });
  new Gauge({
    name: 'lookout_sfu_stream_analysis',
    help: 'Video streams by analysis state (starting, live, retrying, unavailable, paused): is each one sampled onto NATS',
    labelNames: ['state'],
    registers,
    collect() {
      const counts: Record<string, number> = { starting: 0, live: 0, retrying: 0, unavailable: 0, paused: 0 };
      for (const room of rooms.values()) for (const state of room.streams.analysisStates()) counts[state]! += 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
}
