import type { types } from 'mediasoup';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, jpegSize, subjects, type TapFailureCode } from '@lookout/contracts';
import { FreezeDetector } from './freeze-detector.js';
import { describeExit, type FfmpegExit, type FfmpegProcess, JpegSplitter, type Logger, startFfmpeg } from '@lookout/service-kit';
import { DEFAULT_RATE_GATE, RateGate } from './rate-gate.js';
import type { RtpPortPool } from './rtp-ports.js';
import { sdpForConsumer } from './sdp.js';
import type { TapMetrics } from './tap-metrics.js';
import type { TapStatus } from './tap-status.js';
import { udpPortBoundBy } from './udp-sockets.js';

/** How long a tap waits for each step; generous, because a busy 2-core machine is slow. */
export interface TapTiming {
  /** Longest wait for ffmpeg's socket to show up before resuming the consumer anyway. */
  bindWaitMs: number;
  /** No frame this long after a start: the start failed. */
  firstFrameTimeoutMs: number;
  /** No frame this long (or three frame intervals, if longer) once frames flowed: stalled. */
  stallTimeoutMs: number;
  /** Identical frames arriving this long: the picture froze (0 = not checked). */
  frozenTimeoutMs: number;
}

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
  /** Read at each run's start: a room's new width applies from the tap's next run. */
  maxWidth: () => number;
  log: Logger;
  metrics: TapMetrics;
  timing: TapTiming;
  /** The stream's analysis state, which outlives any one tap (pause, resume). */
  status: TapStatus;
  onFrameSize: (size: { width: number; height: number }) => void;
}

/** One running ffmpeg with the transport and consumer that feed it. */
interface Run {
  transport: types.PlainTransport;
  consumer: types.Consumer;
  ffmpeg: FfmpegProcess;
  port: number;
  startedMs: number;
  resumed: boolean;
  /** Caps what the run publishes at the room's rate (rate-gate.ts). */
  gate: RateGate;
  firstFrameMs?: number;
  lastFrameMs?: number;
  watchdog?: NodeJS.Timeout;
  torndown?: Promise<void>;
  doneCpu: () => Promise<void>;
}

/**
 * Samples a video producer into JPEG frames on `frames.<room>.<stream>`:
 * PlainTransport + paused consumer → ffmpeg (SDP on stdin) → JPEGs split by markers.
 *
 * Whatever stops frames — no free port, ffmpeg that cannot start, exits, or decodes
 * nothing, frames that stop — is one kind of failure: the run is torn down, the stream's
 * `TapStatus` hears why, and a fresh run starts after its backoff, until `close()`.
 */
export class FrameTap {
  private run: Run | undefined;
  private closed = false;
  private seq = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The start in progress: a second caller (a retry, a restart) joins it rather than racing it. */
  private starting: Promise<void> | undefined;
  private lastSize: { width: number; height: number } | undefined;
  /** Outlives runs: a restarted tap that sees the same frozen picture still sees it frozen. */
  private readonly freeze: FreezeDetector;
  /** The picture was found frozen and has not changed since: its copies are not published. */
  private pictureFrozen = false;
  published = 0;

  constructor(private readonly o: FrameTapOptions) {
    this.freeze = new FreezeDetector(o.timing.frozenTimeoutMs);
  }

  get size(): { width: number; height: number } | undefined {
    return this.lastSize;
  }

  /** Starts a run; resolves once it is set up (frames follow), never rejects. */
  start(): Promise<void> {
    this.starting ??= this.startRun().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async startRun(): Promise<void> {
    if (this.closed || this.run) return;
    clearTimeout(this.retryTimer);
    const startedMs = Date.now();
    let port: number;
    try {
      port = await this.o.ports.allocate();
    } catch (err) {
      return this.fail('no_port', (err as Error).message);
    }
    let transport: types.PlainTransport | undefined;
    let consumer: types.Consumer;
    try {
      transport = await this.o.router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
      await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
      consumer = await transport.consume({ producerId: this.o.producer.id, rtpCapabilities: this.minimalCapabilities(), paused: true });
    } catch (err) {
      transport?.close();
      this.o.ports.release(port);
      return this.fail('setup', `mediasoup: ${(err as Error).message}`);
    }
    if (this.closed) {
      transport.close();
      this.o.ports.release(port);
      return;
    }
    const ffmpeg = startFfmpeg(this.o.ffmpegPath, this.ffmpegArgs(), sdpForConsumer(consumer.rtpParameters, port));
    const gate = new RateGate({ ...DEFAULT_RATE_GATE, fps: this.o.fps() });
    this.freeze.restartClock();
    const run: Run = { transport, consumer, ffmpeg, port, startedMs, resumed: false, gate, doneCpu: this.o.metrics.trackCpu(() => ffmpeg.cpuSeconds()) };
    this.run = run;
    this.pipeFrames(run);
    void ffmpeg.exited.then((exit) => this.onExit(run, exit));
    run.watchdog = setInterval(() => this.watch(run), 1000);
    await this.resumeWhenListening(run);
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
    const w = this.o.maxWidth();
    return [
      '-nostdin', '-threads', '1', '-protocol_whitelist', 'pipe,udp,rtp',
      '-fflags', '+genpts+discardcorrupt', '-flags', 'low_delay',
      '-probesize', '32768', '-analyzeduration', '200000', '-fpsprobesize', '0', '-reorder_queue_size', '64',
      '-f', 'sdp', '-i', 'pipe:0',
      '-an', '-vf', `fps=${this.o.fps()},scale='min(${w},iw)':-2`,
      '-c:v', 'mjpeg', '-threads', '1', '-q:v', '5', '-f', 'image2pipe', 'pipe:1',
    ];
  }

  private pipeFrames(run: Run): void {
    const splitter = new JpegSplitter((jpeg) => {
      if (this.run !== run) return;
      const size = jpegSize(jpeg);
      if (!size) return;
      const now = Date.now();
      if (run.firstFrameMs === undefined) {
        run.firstFrameMs = now;
        this.o.metrics.timeToFirstFrame.observe((now - run.startedMs) / 1000);
        this.o.log.info({ stream: this.o.stream, ms: now - run.startedMs, ...size }, 'first frame');
      }
      // Frames arrive, whatever becomes of them: not a stall.
      run.lastFrameMs = now;
      if (!this.admit(run, now) || !this.pictureMoves(run, jpeg, now)) return;
      if (!this.lastSize || this.lastSize.width !== size.width || this.lastSize.height !== size.height) {
        this.lastSize = size;
        this.o.onFrameSize(size);
      }
      this.publish(jpeg, size, now);
      this.o.status.frame(now);
    });
    run.ffmpeg.child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));
  }

  /** The rate gate: a frame faster than the room's rate is dropped; a run that keeps overproducing is restarted. */
  private admit(run: Run, now: number): boolean {
    if (run.gate.admit(now)) return true;
    this.o.metrics.framesDropped.inc({ reason: 'too_fast' });
    if (run.gate.overproducing(now)) {
      this.failRun(run, 'flooding', `ffmpeg produced frames faster than the room's ${this.o.fps()} fps (${run.gate.dropped} dropped)${this.sourceHint()}`);
    }
    return false;
  }

  /**
   * The freeze check: copies of one picture for `frozenTimeoutMs` fail the run ('frozen'), and
   * until the picture changes its copies are dropped, so a frozen person never reads as present.
   */
  private pictureMoves(run: Run, jpeg: Buffer, now: number): boolean {
    if (this.freeze.frame(jpeg, now)) {
      this.pictureFrozen = false;
      return true;
    }
    if (this.freeze.frozen(now)) {
      this.pictureFrozen = true;
      this.o.metrics.framesDropped.inc({ reason: 'frozen' });
      const n = this.freeze.identicalFrames;
      this.failRun(run, 'frozen', `the picture has not changed for ${seconds(this.o.timing.frozenTimeoutMs)} (${n} identical frames)${this.sourceHint()}`);
      return false;
    }
    if (!this.pictureFrozen) return true;
    this.o.metrics.framesDropped.inc({ reason: 'frozen' });
    return false;
  }

  private publish(jpeg: Buffer, size: { width: number; height: number }, captureMs: number): void {
    const h = headers();
    const meta = { seq: this.seq++, captureMs, ...size, room: this.o.room, stream: this.o.stream, ...(this.o.peer ? { peer: this.o.peer } : {}) };
    for (const [k, v] of encodeFrameHeaders(meta)) h.set(k, v);
    this.o.nc.publish(subjects.frames(this.o.room, this.o.stream), jpeg, { headers: h });
    this.published++;
    this.o.metrics.framesPublished.inc({ room: this.o.room });
  }

  /**
   * Resumes the consumer once ffmpeg's socket is bound, so the first keyframe is not sent
   * into a closed port. Seeing the socket only saves time: where the kernel tables cannot
   * tell (other kernels, sandboxes) or do not show it in time, the consumer is resumed
   * anyway and the watchdog's keyframe requests and deadline decide.
   */
  private async resumeWhenListening(run: Run): Promise<void> {
    const deadline = Date.now() + this.o.timing.bindWaitMs;
    for (;;) {
      if (this.run !== run) return;
      const bound = await udpPortBoundBy(run.ffmpeg.pid, run.port);
      if (bound !== 'not_bound') break;
      if (Date.now() > deadline) {
        this.o.log.warn({ stream: this.o.stream, port: run.port, waitedMs: this.o.timing.bindWaitMs }, 'ffmpeg socket not seen in /proc/net/udp*; resuming anyway');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.run !== run) return;
    try {
      await run.consumer.resume();
      run.resumed = true;
      await run.consumer.requestKeyFrame();
    } catch (err) {
      if (this.run === run) this.failRun(run, 'setup', `mediasoup: ${(err as Error).message}`);
    }
  }

  /** Every second: ask for a keyframe until one decodes; fail a run that yields no frames. */
  private watch(run: Run): void {
    if (this.run !== run) return;
    const now = Date.now();
    const { firstFrameTimeoutMs, stallTimeoutMs } = this.o.timing;
    if (run.lastFrameMs === undefined) {
      if (now - run.startedMs > firstFrameTimeoutMs) return this.failRun(run, 'no_frames', `no frame decoded within ${seconds(firstFrameTimeoutMs)}${this.sourceHint()}`);
      if (run.resumed) void run.consumer.requestKeyFrame().catch(() => undefined);
      return;
    }
    const stallMs = Math.max(stallTimeoutMs, 3000 / this.o.fps());
    if (now - run.lastFrameMs > stallMs) this.failRun(run, 'stalled', `no frame for ${seconds(stallMs)}${this.sourceHint()}`);
  }

  /** Says when the SFU itself receives nothing, so the reason points at the source, not ffmpeg. */
  private sourceHint(): string {
    const scores = this.o.producer.score;
    return scores.length === 0 || scores.every((s) => s.score === 0) ? ' (no video is reaching the SFU from the source)' : '';
  }

  private onExit(run: Run, exit: FfmpegExit): void {
    if (this.closed || this.run !== run) return;
    this.failRun(run, exit.spawnError ? 'spawn' : 'exited', describeExit(this.o.ffmpegPath, exit, run.ffmpeg.stderrTail()));
  }

  private failRun(run: Run, code: TapFailureCode, reason: string): void {
    if (this.run !== run) return;
    this.run = undefined;
    void this.teardown(run);
    this.fail(code, reason);
  }

  private fail(code: TapFailureCode, reason: string): void {
    if (this.closed) return;
    this.o.metrics.tapFailures.inc({ reason: code });
    if (code === 'exited') this.o.metrics.ffmpegRestarts.inc({ kind: 'tap' });
    const delay = this.o.status.failed(Date.now(), code, reason);
    this.o.log.warn({ stream: this.o.stream, code, reason, failures: this.o.status.failures, retryInMs: delay }, 'tap failed; starting it again');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.start(), delay);
  }

  private teardown(run: Run): Promise<void> {
    run.torndown ??= (async () => {
      clearInterval(run.watchdog);
      await run.doneCpu();
      await run.ffmpeg.stop();
      run.transport.close();
      this.o.ports.release(run.port);
    })();
    return run.torndown;
  }

  /** Restarts ffmpeg (e.g. after a sample-rate change); the analysis state is left as it is. */
  async restart(): Promise<void> {
    await this.starting;
    const run = this.run;
    this.run = undefined;
    if (run) await this.teardown(run);
    await this.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const run = this.run;
    this.run = undefined;
    if (run) await this.teardown(run);
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
