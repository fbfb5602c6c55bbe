import type { types } from 'mediasoup';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, jpegSize, subjects } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { startFfmpeg, type FfmpegProcess } from './ffmpeg-process.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { udpPortBound, type RtpPortPool } from './rtp-ports.js';
import { sdpForConsumer } from './sdp.js';
import type { TapMetrics } from './tap-metrics.js';

export interface FrameTapOptions {
  router: types.Router;
  producer: types.Producer;
  room: string;
  stream: string;
  peer?: string;
  nc: NatsConnection;
  ffmpegPath: string;
  ports: RtpPortPool;
  fps: () => number;
  maxWidth: number;
  log: Logger;
  metrics: TapMetrics;
  onLive: (size: { width: number; height: number }) => void;
}

/** One running ffmpeg with the transport and consumer that feed it. */
interface Run {
  transport: types.PlainTransport;
  consumer: types.Consumer;
  ffmpeg: FfmpegProcess;
  port: number;
  keyframeTimer?: NodeJS.Timeout;
  doneCpu: () => Promise<void>;
}

/**
 * Samples a video producer into JPEG frames on `frames.<room>.<stream>`:
 * PlainTransport + paused consumer → ffmpeg (SDP on stdin) → JPEGs split by markers.
 * ffmpeg that exits while the producer lives is restarted with backoff.
 */
export class FrameTap {
  private run: Run | undefined;
  private closed = false;
  private seq = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastSize: { width: number; height: number } | undefined;
  published = 0;

  constructor(private readonly o: FrameTapOptions) {}

  get size(): { width: number; height: number } | undefined {
    return this.lastSize;
  }

  async start(): Promise<void> {
    if (this.closed || this.run) return;
    const startedMs = Date.now();
    const port = await this.o.ports.allocate();
    const transport = await this.o.router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
    try {
      await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
      const consumer = await transport.consume({ producerId: this.o.producer.id, rtpCapabilities: this.minimalCapabilities(), paused: true });
      const ffmpeg = startFfmpeg(this.o.ffmpegPath, this.ffmpegArgs(), sdpForConsumer(consumer.rtpParameters, port));
      const run: Run = { transport, consumer, ffmpeg, port, doneCpu: this.o.metrics.trackCpu(() => ffmpeg.cpuSeconds()) };
      this.run = run;
      this.pipeFrames(run, startedMs);
      void ffmpeg.exited.then(({ code, signal }) => this.onExit(run, code, signal));
      await this.resumeWhenListening(run);
    } catch (err) {
      // Once ffmpeg runs, the run owns the transport and the port: stop it as a whole.
      const run = this.run;
      if (run?.transport === transport) {
        this.run = undefined;
        await this.teardown(run);
      } else {
        transport.close();
        this.o.ports.release(port);
      }
      throw err;
    }
  }

  /** Only the producer's codec, no RTCP feedback, no header extensions: with the router's
   * full capabilities mediasoup sends bandwidth probes (PT 127) that ffmpeg cannot decode. */
  private minimalCapabilities(): types.RtpCapabilities {
    const produced = this.o.producer.rtpParameters.codecs[0]!;
    const codec = this.o.router.rtpCapabilities.codecs!.find(
      (c) => c.mimeType.toLowerCase() === produced.mimeType.toLowerCase() && (c.parameters?.['packetization-mode'] ?? 0) === (produced.parameters?.['packetization-mode'] ?? 0),
    );
    if (!codec) throw new Error(`router has no codec for ${produced.mimeType}`);
    return { codecs: [{ ...codec, rtcpFeedback: [] }], headerExtensions: [] };
  }

  /** No -fflags nobuffer: it discards the first keyframe read while probing. */
  private ffmpegArgs(): string[] {
    const w = this.o.maxWidth;
    return [
      '-nostdin', '-threads', '1', '-protocol_whitelist', 'pipe,udp,rtp',
      '-fflags', '+genpts+discardcorrupt', '-flags', 'low_delay',
      '-probesize', '32768', '-analyzeduration', '200000', '-fpsprobesize', '0', '-reorder_queue_size', '64',
      '-f', 'sdp', '-i', 'pipe:0',
      '-an', '-vf', `fps=${this.o.fps()},scale='min(${w},iw)':-2`,
      '-c:v', 'mjpeg', '-threads', '1', '-q:v', '5', '-f', 'image2pipe', 'pipe:1',
    ];
  }

  private pipeFrames(run: Run, startedMs: number): void {
    let first = true;
    const splitter = new JpegSplitter((jpeg) => {
      if (this.run !== run) return;
      const size = jpegSize(jpeg);
      if (!size) return;
      if (first) {
        first = false;
        clearInterval(run.keyframeTimer);
        this.restarts = 0;
        this.o.metrics.timeToFirstFrame.observe((Date.now() - startedMs) / 1000);
        this.o.log.info({ stream: this.o.stream, ms: Date.now() - startedMs, ...size }, 'first frame');
      }
      if (!this.lastSize || this.lastSize.width !== size.width || this.lastSize.height !== size.height) {
        this.lastSize = size;
        this.o.onLive(size);
      }
      this.publish(jpeg, size);
    });
    run.ffmpeg.child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));
  }

  private publish(jpeg: Buffer, size: { width: number; height: number }): void {
    const h = headers();
    const meta = { seq: this.seq++, captureMs: Date.now(), ...size, room: this.o.room, stream: this.o.stream, ...(this.o.peer ? { peer: this.o.peer } : {}) };
    for (const [k, v] of encodeFrameHeaders(meta)) h.set(k, v);
    this.o.nc.publish(subjects.frames(this.o.room, this.o.stream), jpeg, { headers: h });
    this.published++;
    this.o.metrics.framesPublished.inc({ room: this.o.room });
  }

  /** Resume once ffmpeg's socket is bound, then ask for a keyframe every second until one decodes. */
  private async resumeWhenListening(run: Run): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await udpPortBound(run.port))) {
      if (this.run !== run) return;
      if (Date.now() > deadline) throw new Error(`ffmpeg did not bind UDP ${run.port}: ${run.ffmpeg.stderrTail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await run.consumer.resume();
    await run.consumer.requestKeyFrame();
    run.keyframeTimer = setInterval(() => void run.consumer.requestKeyFrame().catch(() => undefined), 1000);
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    void this.teardown(run);
    if (this.closed || this.run !== run) return;
    this.run = undefined;
    this.restarts++;
    this.o.metrics.ffmpegRestarts.inc({ kind: 'tap' });
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.restarts, 5));
    this.o.log.warn({ stream: this.o.stream, code, signal, delay, stderr: run.ffmpeg.stderrTail() }, 'tap ffmpeg exited; restarting');
    this.restartTimer = setTimeout(() => void this.start().catch((err: Error) => this.o.log.error({ err }, 'tap restart failed')), delay);
  }

  private async teardown(run: Run): Promise<void> {
    clearInterval(run.keyframeTimer);
    await run.ffmpeg.stop();
    run.transport.close();
    this.o.ports.release(run.port);
    await run.doneCpu();
  }

  /** Restarts ffmpeg (e.g. after a sample-rate change). */
  async restart(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    if (run) await this.teardown(run);
    await this.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const run = this.run;
    this.run = undefined;
    if (run) await this.teardown(run);
  }
}
