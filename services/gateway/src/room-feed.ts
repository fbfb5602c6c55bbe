import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { analysisMessage, decodeJson, subjects, type AnalysisMessage } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';

export type AnalysisListener = (analysis: AnalysisMessage) => void;

/**
 * One NATS subscription per room, shared by every WebSocket client watching that room
 * and closed when the last one leaves.
 */
export class RoomFeed {
  private readonly rooms = new Map<string, { sub: Subscription; listeners: Set<AnalysisListener> }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
  ) {}

  get roomCount(): number {
    return this.rooms.size;
  }

  subscribe(room: string, listener: AnalysisListener): void {
    let entry = this.rooms.get(room);
    if (!entry) {
      const listeners = new Set<AnalysisListener>();
      const sub = this.nc.subscribe(subjects.roomStreams('analysis', room), {
        callback: (err, msg) => {
          if (err) return this.log.error({ err, room }, 'analysis subscription error');
          let analysis: AnalysisMessage;
          try {
            analysis = decodeJson(analysisMessage, msg.data);
          } catch (e) {
            this.badMessages.inc({ subject_kind: 'analysis', reason: 'invalid' });
            this.log.warn({ subject: msg.subject, error: (e as Error).message }, 'dropped bad analysis message');
            return;
          }
          for (const l of listeners) l(analysis);
        },
      });
      entry = { sub, listeners };
      this.rooms.set(room, entry);
    }
    entry.listeners.add(listener);
  }

  unsubscribe(room: string, listener: AnalysisListener): void {
    const entry = this.rooms.get(room);
    if (!entry) return;
    entry.listeners.delete(listener);
    if (entry.listeners.size === 0) {
      entry.sub.unsubscribe();
      this.rooms.delete(room);
    }
  }

  close(): void {
    for (const { sub } of this.rooms.values()) sub.unsubscribe();
    this.rooms.clear();
  }
}
