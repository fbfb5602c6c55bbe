import { LookoutError, type StreamInfo } from '@lookout/contracts';
import type { Grant } from './signaling.js';

/** The SFU's streams of a room; [] when no SFU has the room. */
export type StreamLookup = (room: string) => Promise<readonly StreamInfo[]>;

/** How long a socket's verdict on a stream stands before the SFU is asked again. */
export const OWNERSHIP_RECHECK_MS = 5_000;

const notOwned = (stream: string, why: string) =>
  new LookoutError('stream_not_owned', `stream: ${stream} ${why}; a socket publishes frames only to its own streams`, 'stream');

/**
 * Who may publish frames (fallback upload) to which stream of a room. Frames of a stream
 * are analysed as one person's stream, so a socket may feed only a stream it owns:
 * - a stream the SFU has belongs to the peer producing it over WebRTC, and an ingest's to
 *   nobody (only the SFU's tap feeds it);
 * - a stream only uploads feed is claimed by the first peer that uploads to it through
 *   this gateway, until that peer's last socket here closes; a WebRTC producer of that
 *   name by another peer is refused too.
 * Admins may publish to any stream. Claims live in this process: two gateway replicas do
 * not see each other's upload-only claims (the SFU's streams they both see).
 */
export class StreamOwners {
  /** room/stream → the claiming peer and its sockets */
  private readonly claims = new Map<string, { peer: string; sockets: Set<string> }>();

  constructor(private readonly lookup: StreamLookup) {}

  /** Resolves when the socket may publish frames to `stream`, claiming it; rejects with stream_not_owned. */
  async mayUpload(grant: Grant, stream: string, socket: string): Promise<void> {
    if (grant.role === 'admin') return;
    // Refused at once when another peer's uploads hold it: no need to ask the SFU.
    this.checkClaim(grant, stream);
    const info = (await this.lookup(grant.room)).find((s) => s.stream === stream);
    if (info?.source === 'ingest') throw notOwned(stream, `is fed by an ingest of room ${grant.room}`);
    if (info && info.peer !== grant.peer) throw notOwned(stream, `is produced by ${info.peer !== undefined ? `peer ${info.peer}` : 'another peer'} over WebRTC`);
    // Checked again: another socket may have claimed it while the SFU answered.
    this.checkClaim(grant, stream);
    const key = `${grant.room}/${stream}`;
    const claim = this.claims.get(key) ?? { peer: grant.peer, sockets: new Set<string>() };
    claim.sockets.add(socket);
    this.claims.set(key, claim);
  }

  /** Throws stream_not_owned when another peer's uploads feed `stream` (a producer of that name is refused). */
  checkClaim(grant: Grant, stream: string): void {
    if (grant.role === 'admin') return;
    const claim = this.claims.get(`${grant.room}/${stream}`);
    if (claim && claim.peer !== grant.peer) throw notOwned(stream, `is fed by uploads of peer ${claim.peer}`);
  }

  /** The socket closed: a stream is free again once no socket of its peer holds it here. */
  release(socket: string): void {
    for (const [key, claim] of this.claims) {
      claim.sockets.delete(socket);
      if (claim.sockets.size === 0) this.claims.delete(key);
    }
  }

  /** Streams claimed (for tests and metrics). */
  get size(): number {
    return this.claims.size;
  }
}

/**
 * One socket's verdicts per stream, so that only its first frame to a stream (and one
 * every OWNERSHIP_RECHECK_MS: the SFU's streams change) waits for the SFU. Frames of a
 * stream await the same verdict, so they stay in order; a refusal is kept as long, so a
 * socket that keeps trying does not make the gateway ask the SFU per frame.
 */
export class SocketStreams {
  private readonly verdicts = new Map<string, { ok: Promise<void>; atMs: number }>();

  constructor(
    private readonly owners: StreamOwners,
    private readonly socket: string,
    private readonly now: () => number = Date.now,
  ) {}

  mayUpload(grant: Grant, stream: string): Promise<void> {
    const key = `${grant.room}/${stream}`;
    const now = this.now();
    const held = this.verdicts.get(key);
    if (held && now - held.atMs < OWNERSHIP_RECHECK_MS) return held.ok;
    const ok = this.owners.mayUpload(grant, stream, this.socket);
    // Every frame that awaits it handles a refusal; this keeps an unawaited one quiet.
    ok.catch(() => undefined);
    this.verdicts.set(key, { ok, atMs: now });
    return ok;
  }

  /** The socket closed. */
  release(): void {
    this.verdicts.clear();
    this.owners.release(this.socket);
  }
}
