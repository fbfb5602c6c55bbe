import dgram from 'node:dgram';
import { RtpRebaser } from './rtp-rebaser.js';

/**
 * Sits between an ingest's ffmpeg and its PlainTransport: ffmpeg sends RTP here, the relay
 * rebases it (rtp-rebaser.ts) and forwards it from its own fixed socket, so the `comedia`
 * transport keeps the one source it locked onto whichever ffmpeg is running, and receivers
 * see one continuous stream across relaunches. A few hundred packets a second per stream:
 * a header rewrite each, nothing next to the VP8 encode.
 *
 * ffmpeg's RTCP is not relayed (it runs with `-rtpflags skip_rtcp`): its sender reports carry
 * its own random timestamp base, which would contradict the rebased stream, and nothing
 * downstream of a video-only producer needs them (mediasoup writes its own for consumers).
 */
export class RtpRelay {
  private readonly socket = dgram.createSocket('udp4');
  private readonly rebaser = new RtpRebaser();
  /** When the last packet from ffmpeg arrived (0: none yet). */
  lastPacketMs = 0;
  packets = 0;

  private constructor(
    readonly port: number,
    private readonly target: { ip: string; port: number },
  ) {}

  /** Binds on 127.0.0.1:`port` and forwards what ffmpeg sends there to `target`. */
  static async open(port: number, target: { ip: string; port: number }): Promise<RtpRelay> {
    const relay = new RtpRelay(port, target);
    await relay.bind();
    return relay;
  }

  private bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.port, '127.0.0.1', () => {
        this.socket.off('error', reject);
        // A send error (the transport closed under us) must not crash the SFU; the ingest's
        // watchdog and close() deal with what follows.
        this.socket.on('error', () => undefined);
        this.socket.on('message', (msg, rinfo) => this.forward(msg, rinfo));
        resolve();
      });
    });
  }

  /** ffmpeg is about to be (re)launched: its first packet starts a new launch. */
  newLaunch(): void {
    this.rebaser.newLaunch();
  }

  private forward(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Only ffmpeg sends here (the transport's RTCP goes to its own, unlearned, RTCP tuple).
    if (rinfo.port === this.target.port) return;
    const now = Date.now();
    const packet = this.rebaser.rewrite(msg, `${rinfo.address}:${rinfo.port}`, now);
    if (!packet) return;
    this.lastPacketMs = now;
    this.packets++;
    this.socket.send(packet, this.target.port, this.target.ip);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
