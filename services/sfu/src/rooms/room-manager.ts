import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, LookoutError, sfuEvent, subjects, type SfuEvent, type SfuRoomRecord, type StreamInfo } from '@lookout/contracts';
import type { Counter, Logger, Registry as Metrics } from '@lookout/service-kit';
import type { types } from 'mediasoup';
import { TapMetrics } from '../tap/tap-metrics.js';
import type { WorkerPool } from '../workers/worker-pool.js';
import { IngestRestorer } from './ingest-restorer.js';
import type { Registry } from './registry.js';
import { restoredCounter, roomGauges } from './room-metrics.js';
import { newRecord, withIngest, withoutIngest, withSampleRate, type RoomRecords } from './room-records.js';
import { Room, type RoomContext } from './room.js';

/** How rooms handle media: the parts of a room's context that come from configuration. */
export type MediaSettings = Pick<RoomContext, 'ports' | 'ffmpegPath' | 'maxWidth' | 'tapTiming' | 'ingest' | 'webRtc' | 'limits'>;

export interface RoomManagerOptions {
  /** This SFU instance (room placements, worker_died events, error messages). */
  instance: string;
  pool: WorkerPool;
  registry: Registry;
  /** The rooms' records in KV (sample rate, ingests), from which a lost room is built again. */
  records: RoomRecords;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  /** What each room's router offers, preferred first. */
  codecs: types.RtpCodecCapability[];
  /** Frames per second sampled from a room that does not ask for another rate. */
  defaultFps: number;
  media: MediaSettings;
  /** Longest wait for a live mediasoup worker when building a room (a dead one is replaced after ~1 s). */
  workerWaitMs?: number;
}

export interface RoomSummary {
  room: string;
  sampleFps: number;
  streams: StreamInfo[];
}

/**
 * Rooms of this instance: placed on the least-loaded worker, recorded in KV (RoomRecords)
 * and closed as a whole. A room whose worker dies is built again, same id and rate, on a
 * live worker (the replacement if it was the only one), its ingests restarted and its
 * WebRTC clients told (`worker_died`) to rejoin; a recorded room this instance does not
 * hold (RoomAdoption, or a createRoom for it) is built the same way. Events go out on
 * `sfuevents.<room>`. close() closes every room, keeping their records for whoever
 * builds them next, and stops following the pool, which main.ts closes after it.
 */
export class RoomManager {
  private readonly rooms = new Map<string, Room>();
  /** Rooms being created or built again; requests for them wait for it. */
  private readonly building = new Map<string, Promise<Room>>();
  /** Rooms being closed: held (see holds) until their record is gone. */
  private readonly closing = new Set<string>();
  private readonly ctx: RoomContext;
  private readonly restored: Counter<'cause'>;
  private readonly ingests: IngestRestorer;
  private readonly onWorkerDied = (_index: number, pid: number) => this.workerDied(pid);

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
    this.restored = restoredCounter(o.metrics);
    this.ingests = new IngestRestorer({
      log: o.log,
      current: (id) => this.rooms.get(id),
      recorded: (id, stream) => o.records.record(id)?.ingests.find((i) => i.stream === stream),
    });
  }

  get size(): number {
    return new Set([...this.rooms.keys(), ...this.building.keys()]).size;
  }

  get streamCount(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.streamCount;
    return n;
  }

  ids(): string[] {
    return [...new Set([...this.rooms.keys(), ...this.building.keys()])];
  }

  /** The room is here, or being built here. */
  holds(id: string): boolean {
    return this.rooms.has(id) || this.building.has(id) || this.closing.has(id);
  }

  /**
   * Builds a recorded room this instance does not hold (an adoption scan found it). Nothing
   * when it holds, builds or is closing the room, and `unknown_room` when the record is gone
   * by the time the placement is claimed: a scan that listed a room just before it was
   * closed must not build it again (it did: CI found a closed room open again).
   */
  adopt(id: string): Promise<Room | undefined> {
    if (this.holds(id)) return Promise.resolve(undefined);
    return this.track(id, () => this.build(id, this.o.defaultFps, true));
  }

  /**
   * Creates the room (idempotent: an existing room is returned as it is). A room with a
   * record but no live holder is built from its record, at its recorded rate, with its ingests.
   */
  create(id: string, fps?: number): Promise<Room> {
    const existing = this.rooms.get(id);
    if (existing) return Promise.resolve(existing);
    return this.track(id, () => this.build(id, fps ?? this.o.defaultFps));
  }

  private track(id: string, make: () => Promise<Room>): Promise<Room> {
    let pending = this.building.get(id);
    if (!pending) {
      pending = make().finally(() => this.building.delete(id));
      this.building.set(id, pending);
    }
    return pending;
  }

  private async build(id: string, fps: number, recordedOnly = false): Promise<Room> {
    await this.o.registry.claim(id);
    const stored = await this.o.records.load(id);
    if (recordedOnly && !stored) {
      await this.o.registry.release(id).catch(() => undefined);
      throw new LookoutError('unknown_room', `room ${id} was closed before it could be adopted`, 'room');
    }
    const record = stored ?? newRecord(id, fps);
    // A new room gives its placement back when it cannot be built; a recorded one keeps it (the next scan retries).
    const room = await this.open(record).catch(async (err: unknown) => {
      if (!stored) await this.o.registry.release(id).catch(() => undefined);
      throw err;
    });
    await this.o.records.set(record);
    if (stored) this.restore(room, stored, 'adopted');
    else this.o.log.info({ room: id, worker: room.workerPid }, 'room created');
    return room;
  }

  /** A router for the record's room on the least-loaded live worker, waiting a little for one to be replaced. */
  private async open(record: SfuRoomRecord): Promise<Room> {
    const deadline = Date.now() + (this.o.workerWaitMs ?? 15_000);
    for (let wait = 100; ; wait = Math.min(2 * wait, 2000)) {
      const worker = this.leastLoaded();
      if (worker) {
        try {
          const router = await worker.createRouter({ mediaCodecs: this.o.codecs });
          const room = new Room(record.room, router, worker.pid, record.sampleFps, this.ctx);
          this.rooms.set(record.room, room);
          return room;
        } catch (err) {
          if (!worker.closed) throw err; // it died under us: try the next one
        }
      }
      if (Date.now() + wait > deadline) throw new LookoutError('no_worker', 'no mediasoup worker is available');
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private leastLoaded(): types.Worker | undefined {
    const load = new Map<number, number>();
    for (const r of this.rooms.values()) load.set(r.workerPid, (load.get(r.workerPid) ?? 0) + 1);
    return this.o.pool.live().sort((a, b) => (load.get(a.pid) ?? 0) - (load.get(b.pid) ?? 0))[0];
  }

  /** The room was built again: its clients rejoin (worker_died), its ingests restart in the background. */
  private restore(room: Room, record: SfuRoomRecord, cause: 'worker' | 'adopted'): void {
    this.restored.inc({ cause });
    this.o.log.info({ room: room.id, worker: room.workerPid, cause, ingests: record.ingests.length }, 'room restored');
    this.publish({ type: 'worker_died', room: room.id, instance: this.o.instance });
    this.ingests.restore(room, record.ingests);
  }

  get(id: string): Room {
    const room = this.rooms.get(id);
    if (!room) throw new LookoutError('unknown_room', `room: no room ${id} on SFU instance ${this.o.instance}`, 'room');
    return room;
  }

  /** The room, once it is built if it is being built. */
  async room(id: string): Promise<Room> {
    await this.building.get(id)?.catch(() => undefined);
    return this.get(id);
  }

  /** The room's rate and streams; while it is being built again, its recorded ingests as `reconnecting`. */
  async summary(id: string): Promise<RoomSummary> {
    const record = this.building.has(id) ? this.o.records.record(id) : undefined;
    if (record) return reconnectingSummary(record);
    const room = await this.room(id);
    return { room: id, sampleFps: room.sampleRate, streams: room.listStreams() };
  }

  async setSampleRate(id: string, fps: number): Promise<void> {
    await (await this.room(id)).setSampleRate(fps);
    await this.o.records.update(id, (r) => withSampleRate(r, fps));
  }

  async ingest(id: string, stream: string, url: string, loop: boolean): Promise<string> {
    const producerId = await (await this.room(id)).ingest(stream, url, loop);
    await this.o.records.update(id, (r) => withIngest(r, { stream, url, loop }));
    return producerId;
  }

  async stopIngest(id: string, stream: string): Promise<void> {
    await (await this.room(id)).stopIngest(stream);
    await this.o.records.update(id, (r) => withoutIngest(r, stream));
  }

  /** Closes the room for good: its record goes first, so nobody adopts it once its placement is released. */
  async closeRoom(id: string): Promise<void> {
    await this.building.get(id)?.catch(() => undefined);
    const room = this.rooms.get(id);
    if (!room && !this.o.records.record(id)) this.get(id);
    // Held until the record is gone, so that an adoption scan does not build it again meanwhile.
    this.closing.add(id);
    try {
      this.rooms.delete(id);
      await room?.close();
      await this.o.records.delete(id);
      await this.o.registry.release(id);
    } finally {
      this.closing.delete(id);
    }
    this.publish({ type: 'room_closed', room: id });
    this.o.log.info({ room: id }, 'room closed');
  }

  /** The worker's routers are gone: each of its rooms is built again on a live worker (keeping its placement). */
  private workerDied(pid: number): void {
    for (const [id, room] of this.rooms) {
      if (room.workerPid !== pid) continue;
      this.rooms.delete(id);
      this.track(id, () => this.rebuild(room)).catch((err: Error) =>
        // The record and placement stay: the next adoption scan tries again.
        this.o.log.error({ err, room: id }, 'room not rebuilt after its worker died'),
      );
    }
  }

  private async rebuild(old: Room): Promise<Room> {
    await old.close().catch((err: Error) => this.o.log.warn({ err, room: old.id }, 'lost room did not close cleanly'));
    const held = this.o.records.record(old.id);
    const record = held ?? newRecord(old.id, old.sampleRate);
    const room = await this.open(record);
    if (!held) await this.o.records.set(record);
    this.restore(room, record, 'worker');
    return room;
  }

  private publish(event: SfuEvent): void {
    this.o.nc.publish(subjects.sfuEvents(event.room), encodeJson(sfuEvent, event));
  }

  /**
   * Shutdown: closes every room here but keeps its record (an SFU restarted, or another
   * one, builds it again once the placement is released), and stops following the pool.
   */
  async close(): Promise<void> {
    this.o.pool.off('workerdied', this.onWorkerDied);
    this.ingests.close();
    await Promise.all([...this.building.values()].map((p) => p.catch(() => undefined)));
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    await Promise.all(
      rooms.map(async (room) => {
        this.o.records.forget(room.id);
        await room.close().catch((err: Error) => this.o.log.error({ err, room: room.id }, 'close failed'));
        await this.o.registry.release(room.id).catch(() => undefined);
      }),
    );
  }
}

/** A room being built again, as its record describes it: every ingest reconnecting, nothing analysed yet. */
export function reconnectingSummary(record: SfuRoomRecord, now = Date.now()): RoomSummary {
  return {
    room: record.room,
    sampleFps: record.sampleFps,
    streams: record.ingests.map((i) => ({
      stream: i.stream,
      source: 'ingest' as const,
      state: 'reconnecting',
      analysis: { state: 'starting', sinceMs: now, failures: 0 },
      framesPublished: 0,
    })),
  };
}
