import type { KV } from '@nats-io/kv';
import { roomAnalysisConfig, type RoomAnalysisConfig } from '@lookout/contracts';
import { KvMirror, type Counter, type Logger } from '@lookout/service-kit';
import { applyRoomConfig, type AnalysisSettings } from './settings.js';

/**
 * Per-room overrides, followed live from the room-config KV bucket: every replica keeps
 * the whole (small) bucket in memory and applies a change as soon as the watch delivers it.
 */
export class RoomSettings {
  private readonly rooms: KvMirror<RoomAnalysisConfig>;

  constructor(
    readonly defaults: AnalysisSettings,
    log: Logger,
    badMessages: Counter<'subject_kind' | 'reason'>,
  ) {
    this.rooms = new KvMirror('room_config', roomAnalysisConfig, log, badMessages);
  }

  /** Follows the room-config bucket (stores.ts opens it). */
  async start(roomConfig: KV): Promise<void> {
    await this.rooms.start(roomConfig);
  }

  get ready(): boolean {
    return this.rooms.ready;
  }

  for(room: string): AnalysisSettings {
    return applyRoomConfig(this.defaults, this.rooms.get(room));
  }

  stop(): void {
    this.rooms.stop();
  }
}
