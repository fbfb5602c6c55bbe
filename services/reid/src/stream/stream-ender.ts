import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson, queueGroups, rpc, sfuEvent, streamKey, subjects, type SfuEvent } from '@lookout/contracts';
import type { Counter, Logger, Responder, RpcServer } from '@lookout/service-kit';
import type { StreamEvents } from './stream-events.js';
import type { StreamStateStore } from './stream-state-store.js';
import { endStream } from './core/advance.js';

export interface StreamEnderOptions {
  nc: NatsConnection;
  log: Logger;
  state: StreamStateStore;
  stateKv: KV;
  events: StreamEvents;
  casRetries: number;
  badMessages: Counter<'subject_kind' | 'reason'>;
}

const ENDED_STATES = new Set(['closed', 'failed']);

/**
 * Ends streams: when the SFU says a stream closed or failed, or a room closed
 * (`sfuevents.*`, published events: a subscription in queue group reid, so one replica
 * handles each), or when asked (`rpc.reid.endStream`, e.g. by the gateway when a session
 * ends), the stream's open episodes are closed and its last second of metrics flushed.
 */
export class StreamEnder {
  private sub: Subscription | undefined;
  private responder: Responder | undefined;

  constructor(private readonly o: StreamEnderOptions) {}

  start(server: RpcServer): void {
    this.sub = this.o.nc.subscribe(subjects.sfuEventsAll(), { queue: queueGroups.reid, callback: (_e, m) => void this.onSfuEvent(m) });
    this.responder = server.serve(rpc.reid.endStream, async (req) => ({ closedEpisodes: await this.end(req.room, req.stream, req.reason ?? 'stream ended') }));
  }

  private async onSfuEvent(msg: Msg): Promise<void> {
    let event: SfuEvent;
    try {
      event = decodeJson(sfuEvent, msg.data);
    } catch (err) {
      this.o.badMessages.inc({ subject_kind: 'sfu_event', reason: 'invalid' });
      this.o.log.warn({ subject: msg.subject, error: (err as Error).message }, 'dropped bad sfu event');
      return;
    }
    try {
      if (event.type === 'stream_state' && ENDED_STATES.has(event.state)) await this.end(event.room, event.stream, `stream ${event.state}`);
      if (event.type === 'room_closed') {
        for await (const key of await this.o.stateKv.keys(`${event.room}.*`)) await this.end(event.room, key.slice(event.room.length + 1), 'room closed');
      }
    } catch (err) {
      this.o.log.error({ err, event }, 'could not end stream');
    }
  }

  /** Returns how many episodes it closed. */
  async end(room: string, stream: string, reason: string): Promise<number> {
    const key = streamKey(room, stream);
    for (let attempt = 0; attempt < this.o.casRetries; attempt++) {
      const { state, revision } = await this.o.state.read(key);
      if (!state) return 0;
      const ended = endStream(state, reason);
      if (!(await this.o.state.write(key, ended.state, revision))) continue;
      await this.o.events.publish({ room, stream, seq: state.lastSeq }, ended.transitions, ended.metrics);
      return ended.transitions.length;
    }
    throw new Error(`${key}: state kept changing`);
  }

  async stop(): Promise<void> {
    await Promise.all([this.sub && !this.sub.isClosed() ? this.sub.drain() : undefined, this.responder?.stop()]);
  }
}
