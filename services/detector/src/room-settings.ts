import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { kvBuckets, roomAnalysisConfig, type RoomAnalysisConfig } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import { applyRoomConfig, type AnalysisSettings } from './settings.js';

/**
 * Per-room overrides, followed live from the room-config KV bucket: every replica keeps
 * the whole (small) bucket in memory and applies a change as soon as the watch delivers it.
 */
export class RoomSettings {
  private readonly rooms = new Map<string, RoomAnalysisConfig>();
  private watcher: { stop(): void } | undefined;
  private watching = false;

  constructor(
    readonly defaults: AnalysisSettings,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
  ) {}

  async start(nc: NatsConnection): Promise<void> {
    const kv: KV = await new Kvm(nc).create(kvBuckets.roomConfig, { history: 1 });
    const iter = await kv.watch();
    this.watcher = iter;
    this.watching = true;
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') {
          this.rooms.delete(e.key);
          this.log.info({ room: e.key }, 'room config removed');
          continue;
        }
        try {
          this.rooms.set(e.key, roomAnalysisConfig.parse(e.json()));
          this.log.info({ room: e.key, revision: e.revision }, 'room config updated');
        } catch (err) {
          this.badMessages.inc({ subject_kind: 'room_config', reason: 'invalid' });
          this.log.warn({ room: e.key, error: (err as Error).message }, 'ignored invalid room config');
        }
      }
      this.watching = false;
    })();
  }

  get ready(): boolean {
    return this.watching;
  }

  for(room: string): AnalysisSettings {
    return applyRoomConfig(this.defaults, this.rooms.get(room));
  }

  stop(): void {
    this.watcher?.stop();
  }
}
