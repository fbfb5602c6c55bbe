import { LookoutError, type ErrorCode } from '@lookout/contracts';

/** What one socket may hold at once (WS_MAX_TRANSPORTS, WS_MAX_PRODUCERS). */
export interface SocketCaps {
  transports: number;
  producers: number;
}

export type CappedKind = 'transport' | 'producer';

const CAPPED: Record<CappedKind, { code: ErrorCode; noun: string; setting: string; cap: keyof SocketCaps }> = {
  transport: { code: 'too_many_transports', noun: 'WebRTC transports', setting: 'WS_MAX_TRANSPORTS', cap: 'transports' },
  producer: { code: 'too_many_producers', noun: 'producers', setting: 'WS_MAX_PRODUCERS', cap: 'producers' },
};

/**
 * Media objects a socket created: only it may use them, they close with it, and it may
 * hold at most `caps` of them. Creations still in flight count, or a socket sending
 * several at once would pass the check together. Consumers are not capped here: a
 * consumer closes with its producer, which this socket does not hear of; the SFU, which
 * does, caps them per peer and per room.
 */
export class OwnedMedia {
  /** transport id → room */
  readonly transports = new Map<string, string>();
  /** producer id → its transport */
  readonly producers = new Map<string, string>();
  /** consumer id → its transport */
  readonly consumers = new Map<string, string>();
  private readonly inFlight: Record<CappedKind, number> = { transport: 0, producer: 0 };

  constructor(private readonly caps: SocketCaps) {}

  /** Counts one creation in flight, or throws the cap it would break; call the result once it is answered (after recording). */
  reserve(kind: CappedKind): () => void {
    const c = CAPPED[kind];
    const max = this.caps[c.cap];
    const held = (kind === 'transport' ? this.transports.size : this.producers.size) + this.inFlight[kind];
    if (held >= max) {
      throw new LookoutError(c.code, `op: this connection already has ${max} ${c.noun}, the most ${c.setting} allows; close one first`, 'op', { scope: 'socket', limit: max, setting: c.setting });
    }
    this.inFlight[kind]++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight[kind]--;
    };
  }

  /** The transport is closed: its producers and consumers went with it. */
  dropTransport(id: string): void {
    this.transports.delete(id);
    for (const [p, t] of this.producers) if (t === id) this.producers.delete(p);
    for (const [c, t] of this.consumers) if (t === id) this.consumers.delete(c);
  }

  /** The room closed or its worker died: everything this socket had there is gone. */
  dropRoom(room: string): void {
    for (const [t, r] of this.transports) if (r === room) this.dropTransport(t);
  }
}
