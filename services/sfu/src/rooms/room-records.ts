import type { KV } from '@nats-io/kv';
import { sfuRoomRecord, type SfuRoomRecord } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';

export type IngestRecord = SfuRoomRecord['ingests'][number];

/** A new room's record: its rate, no ingests yet. */
export function newRecord(room: string, sampleFps: number, now = Date.now()): SfuRoomRecord {
  return { room, sampleFps, ingests: [], updatedMs: now };
}

/** The record with `ingest` added (replacing a stream of the same name: the newest request wins). */
export function withIngest(r: SfuRoomRecord, ingest: IngestRecord, now = Date.now()): SfuRoomRecord {
  return { ...r, ingests: [...r.ingests.filter((i) => i.stream !== ingest.stream), ingest], updatedMs: now };
}

export function withoutIngest(r: SfuRoomRecord, stream: string, now = Date.now()): SfuRoomRecord {
  return { ...r, ingests: r.ingests.filter((i) => i.stream !== stream), updatedMs: now };
}

export function withSampleRate(r: SfuRoomRecord, sampleFps: number, now = Date.now()): SfuRoomRecord {
  return { ...r, sampleFps, updatedMs: now };
}

/** The stored bytes of a record, validated on the way in and out (a malformed one is an error). */
export function encodeRecord(r: SfuRoomRecord): string {
  return JSON.stringify(sfuRoomRecord.parse(r));
}

export function decodeRecord(text: string): SfuRoomRecord {
  return sfuRoomRecord.parse(JSON.parse(text));
}

/**
 * This instance's rooms as recorded in `lookout_sfu_rooms`, so another worker or another
 * SFU can build them again. The records of the rooms held here are kept in memory too;
 * writes of one room go out in order (one chain per room), each writing the latest
 * record, so a slow write never reorders two changes. Writes happen on control operations
 * only (create, rate, ingest, close), never per frame; a failed write is logged and the
 * operation still stands (the next change writes the whole record again).
 */
export class RoomRecords {
  private readonly held = new Map<string, SfuRoomRecord>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  /** The held record of `room`, if this instance holds it. */
  record(room: string): SfuRoomRecord | undefined {
    return this.held.get(room);
  }

  /** The stored record of `room` (any instance's); undefined when none or unreadable. */
  async load(room: string): Promise<SfuRoomRecord | undefined> {
    const e = await this.kv.get(room);
    if (e?.operation !== 'PUT') return undefined;
    try {
      return decodeRecord(e.string());
    } catch (err) {
      this.log.warn({ err, room }, 'room record unreadable; ignored');
      return undefined;
    }
  }

  /** Every room with a record. */
  async rooms(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys()) out.push(k);
    return out;
  }

  /** Holds `record` here and stores it. */
  set(record: SfuRoomRecord): Promise<void> {
    this.held.set(record.room, record);
    return this.write(record.room);
  }

  /** Changes the held record of `room` (nothing when it is not held) and stores it. */
  update(room: string, change: (r: SfuRoomRecord) => SfuRoomRecord): Promise<void> {
    const r = this.held.get(room);
    if (!r) return Promise.resolve();
    this.held.set(room, change(r));
    return this.write(room);
  }

  /** Stops holding `room` without touching its stored record (shutdown: another SFU, or this one restarted, builds it again). */
  forget(room: string): void {
    this.held.delete(room);
  }

  /** The room is closed for good: its record goes. */
  delete(room: string): Promise<void> {
    this.held.delete(room);
    return this.chain(room, () => this.kv.delete(room).then(() => undefined));
  }

  private write(room: string): Promise<void> {
    return this.chain(room, async () => {
      const r = this.held.get(room);
      if (r) await this.kv.put(room, encodeRecord(r));
    });
  }

  private chain(room: string, op: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(room) ?? Promise.resolve())
      .then(op)
      .catch((err: Error) => this.log.error({ err, room }, 'room record not written'));
    this.chains.set(room, next);
    void next.then(() => this.chains.get(room) === next && this.chains.delete(room));
    return next;
  }
}
