import { LookoutError, type ErrorCode } from '@lookout/contracts';

/**
 * Caps on a room's WebRTC transports, producers and consumers, per peer and per room.
 *
 * The SFU enforces them, not only the gateway: it owns the ports (every WebRTC transport
 * holds one UDP and one TCP port of RTC_MIN_PORT..RTC_MAX_PORT, shared by all rooms), it
 * sees every gateway replica's requests, and it knows when mediasoup closes an object
 * (a producer that went away closes its consumers without the gateway hearing of it).
 */
export type LimitedKind = 'transport' | 'producer' | 'consumer';
export type LimitScope = 'socket' | 'peer' | 'room';

/** A cap and the setting it comes from (named in the refusal, so an operator knows what to raise). */
export interface Cap {
  max: number;
  setting: string;
}

export type MediaCaps = Record<LimitedKind, { perPeer: Cap; perRoom: Cap }>;

const CODES: Record<LimitedKind, ErrorCode> = { transport: 'too_many_transports', producer: 'too_many_producers', consumer: 'too_many_consumers' };
const NOUNS: Record<LimitedKind, string> = { transport: 'WebRTC transports', producer: 'producers', consumer: 'consumers' };

/** The refusal of one object over `cap`; `who` says whose count is full ("peer alice in room r"). */
export function overCap(kind: LimitedKind, scope: LimitScope, who: string, cap: Cap): LookoutError {
  return new LookoutError(CODES[kind], `${who} already has ${cap.max} ${NOUNS[kind]}, the most ${cap.setting} allows; close one first`, undefined, {
    scope,
    limit: cap.max,
    setting: cap.setting,
  });
}

/**
 * A room's share of the WebRTC port range: at most `share` of the ports, and never more
 * than `max`. So however its clients behave, one room leaves (1 − share) of the ports to
 * the others. The refusal names whichever setting binds.
 */
export function roomTransportCap(ports: number, share: number, max: number): Cap {
  const byShare = Math.floor(ports * share);
  return byShare < max ? { max: byShare, setting: `ROOM_PORT_SHARE (${share} of ${ports} ports)` } : { max, setting: 'MAX_TRANSPORTS_PER_ROOM' };
}

/**
 * Counts one kind of a room's media objects, per peer and in all. A slot is taken before
 * mediasoup is asked (so concurrent requests cannot all pass the check and overshoot) and
 * given back when the object closes, or when creating it failed.
 */
export class MediaCounter {
  private readonly byPeer = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly kind: LimitedKind,
    private readonly caps: { perPeer: Cap; perRoom: Cap },
    private readonly room: string,
  ) {}

  get count(): number {
    return this.total;
  }

  countOf(peer: string): number {
    return this.byPeer.get(peer) ?? 0;
  }

  /** Takes a slot for `peer` or throws the cap it would break; the result gives it back (once). */
  acquire(peer: string): () => void {
    const held = this.countOf(peer);
    if (held >= this.caps.perPeer.max) throw overCap(this.kind, 'peer', `peer ${peer} in room ${this.room}`, this.caps.perPeer);
    if (this.total >= this.caps.perRoom.max) throw overCap(this.kind, 'room', `room ${this.room}`, this.caps.perRoom);
    this.byPeer.set(peer, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = this.countOf(peer) - 1;
      if (left > 0) this.byPeer.set(peer, left);
      else this.byPeer.delete(peer);
    };
  }
}
