import { Counter, Gauge, type Registry as Metrics } from '@lookout/service-kit';
import type { Room } from './room.js';

/** The SFU's gauges of rooms, transports, streams and their analysis, read at each scrape. */
export function roomGauges(metrics: Metrics, rooms: ReadonlyMap<string, Room>): void {
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
    help: 'Video streams by analysis state (starting, live, retrying, stalled, unavailable, paused): is each one sampled onto NATS',
    labelNames: ['state'],
    registers,
    collect() {
      const counts: Record<string, number> = { starting: 0, live: 0, retrying: 0, stalled: 0, unavailable: 0, paused: 0 };
      for (const room of rooms.values()) for (const state of room.streams.analysisStates()) counts[state]! += 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
}

/** Rooms built again: after their worker died (`worker`), or taken over from a dead SFU or this one before a restart (`adopted`). */
export function restoredCounter(metrics: Metrics): Counter<'cause'> {
  return new Counter({ name: 'lookout_sfu_rooms_restored_total', help: 'Rooms built again from their record, by cause (worker, adopted)', labelNames: ['cause'], registers: [metrics] });
}
