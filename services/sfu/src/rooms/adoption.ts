import { LookoutError } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { Registry } from './registry.js';
import type { RoomRecords } from './room-records.js';

/**
 * Whether this instance should take a recorded room it does not hold: one nobody holds
 * (its SFU shut down cleanly and gave it back), one held under this instance's own id (it
 * is this SFU from before a restart, with a stable INSTANCE_ID), or one whose holder's
 * heartbeat has expired. A room held by another live instance is that instance's.
 */
export function shouldAdopt(o: { self: string; owner: string | undefined; ownerAlive: boolean }): boolean {
  if (o.owner === undefined || o.owner === o.self) return true;
  return !o.ownerAlive;
}

export interface AdoptionOptions {
  instance: string;
  records: RoomRecords;
  registry: Registry;
  /** The rooms this instance holds, builds or is closing, and how it builds one from its record. */
  rooms: { holds(room: string): boolean; adopt(room: string): Promise<unknown> };
  /** Scan period (a third of the heartbeat TTL, like the heartbeat itself). */
  intervalMs: number;
  log: Logger;
}

/**
 * Rooms left behind by a dead SFU (or by this one before a restart) are built again here:
 * each scan reads every room record and adopts the ones `shouldAdopt` allows. Claiming the
 * placement is create-or-compare-and-set (Registry.claim), so when several survivors scan
 * at once exactly one wins each room; the others get `room_elsewhere` or a CAS conflict
 * and leave it. close() stops scanning (main.ts closes it before the rooms).
 */
export class RoomAdoption {
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: AdoptionOptions) {}

  /** Scans now, then every `intervalMs`. */
  start(): void {
    void this.scan();
    this.timer = setInterval(() => void this.scan(), this.o.intervalMs);
  }

  /** One pass over the records (a pass still running is joined, not doubled). */
  scan(): Promise<void> {
    this.scanning ??= this.pass()
      .catch((err: Error) => this.o.log.warn({ err }, 'room adoption scan failed'))
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async pass(): Promise<void> {
    for (const room of await this.o.records.rooms()) {
      if (this.closed) return;
      if (this.o.rooms.holds(room)) continue;
      const owner = await this.o.registry.placement(room);
      const ownerAlive = owner !== undefined && owner !== this.o.instance && (await this.o.registry.alive(owner));
      if (!shouldAdopt({ self: this.o.instance, owner, ownerAlive })) continue;
      this.o.log.info({ room, previous: owner ?? null }, 'adopting room');
      await this.o.rooms.adopt(room).catch((err: Error) => {
        // Another survivor claimed it first (that one builds it), or it was closed meanwhile.
        const code = err instanceof LookoutError ? err.code : undefined;
        if (code === 'room_elsewhere') this.o.log.info({ room }, 'room adopted elsewhere');
        else if (code === 'unknown_room') this.o.log.info({ room }, 'room closed before it could be adopted');
        else this.o.log.warn({ err, room }, 'room adoption failed; next scan tries again');
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.scanning;
  }
}
