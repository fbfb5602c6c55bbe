/**
 * Makes the RTP of successive ingest ffmpeg launches one continuous stream.
 *
 * Every ffmpeg starts its RTP sequence numbers and timestamps at a new random base (ffmpeg
 * 5.1 offers `-seq` but no way to set the timestamp base), while the producer keeps its SSRC.
 * Receivers of that SSRC — the frame tap's ffmpeg, browsers — then see a jump: a sequence
 * number "behind" the last one is dropped as too late until it wraps round (seconds to
 * minutes of nothing), and a timestamp far ahead makes the tap's `fps` filter fill the gap
 * with copies of the last frame at full speed (the frozen-stream flood of issue 18, ~500
 * identical JPEGs a second, reproduced). So each launch is rebased: its first packet follows
 * the last packet sent (sequence + 1, timestamp + the wall-clock gap), and every later
 * packet of it keeps its distance from that first one.
 *
 * Pure (time is passed in): it rewrites headers, the relay moves the packets.
 */
export class RtpRebaser {
  private seqOffset = 0;
  private tsOffset = 0;
  /** The launch's source (`address:port`); a packet from another one starts a new launch. */
  private source: string | undefined;
  private rebaseNext = true;
  private last: { seq: number; ts: number; atMs: number } | undefined;
  launches = 0;

  constructor(private readonly clockRate = 90_000) {}

  /** The next packet starts a new launch, whatever its source (ffmpeg is about to be relaunched). */
  newLaunch(): void {
    this.rebaseNext = true;
  }

  /**
   * Rewrites an RTP packet in place and returns it; undefined for something that is not RTP
   * version 2 (dropped). `source` identifies the sender (its address and port).
   */
  rewrite(packet: Buffer, source: string, nowMs: number): Buffer | undefined {
    if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
    const inSeq = packet.readUInt16BE(2);
    const inTs = packet.readUInt32BE(4);
    if (this.rebaseNext || source !== this.source) this.rebase(inSeq, inTs, source, nowMs);
    const seq = (inSeq + this.seqOffset) & 0xffff;
    const ts = (inTs + this.tsOffset) >>> 0;
    packet.writeUInt16BE(seq, 2);
    packet.writeUInt32BE(ts, 4);
    // Only a newer packet moves the end of the stream (a reordered one must not pull it back).
    if (!this.last || ((seq - this.last.seq) & 0xffff) < 0x8000) this.last = { seq, ts, atMs: nowMs };
    return packet;
  }

  private rebase(inSeq: number, inTs: number, source: string, nowMs: number): void {
    this.rebaseNext = false;
    this.source = source;
    this.launches++;
    if (!this.last) return; // the first launch goes out as it is
    const gapTicks = Math.max(1, Math.round((Math.max(0, nowMs - this.last.atMs) * this.clockRate) / 1000));
    this.seqOffset = (this.last.seq + 1 - inSeq) & 0xffff;
    this.tsOffset = (this.last.ts + gapTicks - inTs) >>> 0;
  }
}
