import type { Logger } from '@lookout/service-kit';
import type { Room } from './room.js';
import type { IngestRecord } from './room-records.js';

export interface IngestRestorerOptions {
  log: Logger;
  /** The room now held under this id (a retry for a room since rebuilt or closed stops). */
  current(room: string): Room | undefined;
  /** The ingest as the room's record has it now (a retry for one stopped or replaced stops). */
  recorded(room: string, stream: string): IngestRecord | undefined;
  /** First retry after this long, doubling up to 60 s. */
  retryMs?: number;
}

/** The wait before retry `n` (0-based): `first` doubling, at most 60 s. */
export const retryDelayMs = (n: number, first = 2000): number => Math.min(60_000, first * 2 ** Math.min(n, 10));

/**
 * Starts a rebuilt room's recorded ingests again. One that fails (a camera still down, a
 * file briefly unreadable) stays `failed` in listStreams, saying why, and is tried again
 * with backoff for as long as the room is the same, its record still lists that ingest
 * unchanged and nobody has ingested the stream since. close() stops every retry.
 */
export class IngestRestorer {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: IngestRestorerOptions) {}

  restore(room: Room, ingests: readonly IngestRecord[]): void {
    for (const i of ingests) this.attempt(room, i, 0);
  }

  private attempt(room: Room, i: IngestRecord, n: number): void {
    const log = this.o.log.child({ room: room.id, stream: i.stream });
    room.ingest(i.stream, i.url, i.loop, 'reconnecting').then(
      () => n > 0 && log.info({ attempts: n + 1 }, 'ingest restored'),
      (err: Error) => {
        if (this.closed) return;
        const wait = retryDelayMs(n, this.o.retryMs);
        log.warn({ err, retryInMs: wait }, 'ingest not restored; trying again');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (this.wanted(room, i)) this.attempt(room, i, n + 1);
        }, wait);
        this.timers.add(timer);
      },
    );
  }

  private wanted(room: Room, i: IngestRecord): boolean {
    const now = this.o.recorded(room.id, i.stream);
    if (this.closed || this.o.current(room.id) !== room || now?.url !== i.url || now.loop !== i.loop) return false;
    return room.listStreams().find((s) => s.stream === i.stream)?.state === 'failed';
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
