import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { types } from 'mediasoup';
import { LookoutError, type StreamInfo } from '@lookout/contracts';
import { type FfmpegProcess, fromInstallRoot, type Logger, startFfmpeg } from '@lookout/service-kit';
import type { RtpPortPool } from '../tap/rtp-ports.js';
import type { TapMetrics } from '../tap/tap-metrics.js';
import { RtpRelay } from './rtp-relay.js';
import { redactorFor, redactUrl } from './redact.js';
import { chooseIngestMode, probeSource, type IngestMode } from './source-probe.js';

/** How an SFU ingests: where files may come from, and whether VP8 files are passed through. */
export interface IngestSettings {
  /** Files must resolve inside this directory; empty = file ingest disabled. */
  fileRoot: string;
  ffprobePath: string;
  /** Send what the router routes (VP8, H.264 of its profile) as it is instead of encoding it again (source-probe.ts). */
  passthrough: boolean;
}

export interface IngestOptions {
  router: types.Router;
  stream: string;
  url: string;
  loop: boolean;
  ffmpegPath: string;
  ports: RtpPortPool;
  settings: IngestSettings;
  log: Logger;
  metrics: TapMetrics;
  onState: (state: 'live' | 'reconnecting' | 'failed', error?: string) => void;
}

const PAYLOAD_TYPE = 101;
/**
 * An ffmpeg that is running but has sent no RTP for this long is stuck (a camera that hangs
 * without closing, a wedged process): it is stopped and relaunched like one that exited.
 * RTSP reads already time out after 5 s (`-timeout`), so this only catches what that misses.
 */
const INGEST_SILENT_MS = 10_000;

type Source = { kind: 'rtsp' | 'file'; input: string };

/** The source to hand ffmpeg: an RTSP URL, or a readable file under the ingest root. Errors never repeat a password. */
export async function resolveSource(url: string, fileRoot: string): Promise<Source> {
  if (/^rtsps?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new LookoutError('invalid_url', `url: not a valid URL: ${redactUrl(url)}`, 'url');
    }
    return { kind: 'rtsp', input: url };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw new LookoutError('invalid_url', `url: only rtsp://, rtsps:// or a file path are accepted, got ${url.split(':')[0]}:`, 'url');
  if (!fileRoot) throw new LookoutError('file_ingest_disabled', 'url: file ingest is disabled (INGEST_FILE_ROOT is empty)', 'url');
  // Relative to the install root, like MODELS_DIR: the same wherever the SFU was started from.
  const root = fromInstallRoot(fileRoot);
  const file = path.resolve(root, url);
  if (file !== root && !file.startsWith(root + path.sep)) throw new LookoutError('invalid_url', `url: ${url} is outside the ingest root`, 'url');
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new LookoutError('unreadable_file', `url: cannot read ${url}`, 'url');
  }
  return { kind: 'file', input: file };
}

/**
 * ffmpeg pushes a file or RTSP camera over RTP into a PlainTransport producer, so it is
 * tapped and viewable like a webcam. What the router can route (a camera's H.264 of the
 * router's profile, VP8) with frequent enough keyframes is sent as it is (`-c:v copy`);
 * the rest is encoded to VP8 with a keyframe every second: nobody can ask ffmpeg for one
 * (it ignores PLI), and a tap needs one to start (source-probe.ts). A camera that drops is
 * relaunched with backoff, the stream `reconnecting` meanwhile. The URL's password stays
 * in ffmpeg's arguments only: every message, log line and state passes `redact`.
 */
export class Ingest {
  private transport: types.PlainTransport | undefined;
  private ffmpeg: FfmpegProcess | undefined;
  private doneCpu: (() => Promise<void>) | undefined;
  private closed = false;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The relay's port (of a pair from the pool): the one source the comedia transport ever sees. */
  private localPort: number | undefined;
  private relay: RtpRelay | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private launchedMs = 0;
  producer: types.Producer | undefined;
  /** copy or encode, decided once per ingest (see source-probe.ts). */
  mode: IngestMode = { mode: 'encode', codec: 'VP8', why: 'not started' };
  /** Removes the URL's password from any text (redact.ts). */
  private readonly redact: (text: string) => string;

  constructor(private readonly o: IngestOptions) {
    this.redact = redactorFor(o.url);
  }

  /** The path taken, for the stream's room info (contracts StreamIngest): no password in it. */
  get info(): NonNullable<StreamInfo['ingest']> {
    const { mode, codec, sourceCodec, profileLevelId, why } = this.mode;
    return { url: redactUrl(this.o.url), mode, codec, ...(sourceCodec ? { sourceCodec } : {}), ...(profileLevelId ? { profileLevelId } : {}), why: this.redact(why) };
  }

  /** Resolves with the producer once RTP flows; rejects (state failed) if it never does. */
  async start(): Promise<types.Producer> {
    const source = await resolveSource(this.o.url, this.o.settings.fileRoot);
    this.mode = await this.chooseMode(source);
    if (this.closed) throw new LookoutError('ingest_failed', `url: ${redactUrl(this.o.url)}: closed while starting`, 'url');
    this.o.metrics.ingestsStarted.inc({ mode: this.mode.mode, codec: this.mode.codec });
    this.o.log.info({ stream: this.o.stream, ...this.info }, `ingest: ${this.mode.mode === 'copy' ? `${this.mode.codec} passed through` : 'encoding VP8'}`);
    this.localPort = await this.o.ports.allocate();
    this.transport = await this.o.router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
    const ssrc = 10_000_000 + Math.floor(Math.random() * 1_000_000_000);
    this.producer = await this.transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [this.producerCodec()], encodings: [{ ssrc }] },
      appData: { stream: this.o.stream, source: 'ingest' },
    });
    try {
      this.relay = await RtpRelay.open(this.localPort, { ip: '127.0.0.1', port: this.transport.tuple.localPort });
    } catch (err) {
      await this.close();
      throw new LookoutError('ingest_failed', `url: ${redactUrl(this.o.url)}: cannot bind the RTP relay: ${(err as Error).message}`, 'url');
    }
    const flowing = new Promise<void>((resolve) => this.transport!.once('tuple', () => resolve()));
    this.watchdog = setInterval(() => this.watch(), 1000);
    const exited = this.launch(source, ssrc);
    const first = await Promise.race([flowing.then(() => 'flowing' as const), exited.then(() => 'exited' as const), delay(15_000).then(() => 'timeout' as const)]);
    if (first !== 'flowing') {
      const why = first === 'timeout' ? 'no video within 15 s' : this.ffmpeg?.stderrTail() || 'ffmpeg exited';
      await this.close();
      throw new LookoutError('ingest_failed', this.redact(`url: ${this.o.url}: ${why}`), 'url');
    }
    return this.producer;
  }

  /**
   * Probes the source (codec, H.264 profile, keyframes) and picks the path. A camera that
   * cannot be probed is not there: the ingest fails now, as ffmpeg would a moment later.
   */
  private async chooseMode(source: Source): Promise<IngestMode> {
    if (!this.o.settings.passthrough) return { mode: 'encode', codec: 'VP8', why: 'INGEST_PASSTHROUGH is off' };
    try {
      const facts = await probeSource(this.o.settings.ffprobePath, source);
      return chooseIngestMode(facts, { routerCodecs: this.o.router.rtpCapabilities.codecs ?? [], live: source.kind === 'rtsp' });
    } catch (err) {
      // execFile's message repeats the command line, URL included; ffprobe's stderr follows it.
      const lines = (err as Error & { stderr?: string }).message.split('\n').filter((l) => l && !l.startsWith('Command failed'));
      const why = this.redact(lines.at(-1) ?? 'ffprobe failed');
      if (source.kind === 'rtsp') throw new LookoutError('ingest_failed', `url: ${redactUrl(this.o.url)}: ${why}`, 'url');
      return { mode: 'encode', codec: 'VP8', why: `probe failed: ${why}` };
    }
  }

  /** The producer's codec: VP8, or H.264 with the source's profile and the packetization ffmpeg uses. */
  private producerCodec(): types.RtpCodecParameters {
    if (this.mode.codec === 'VP8') return { mimeType: 'video/VP8', payloadType: PAYLOAD_TYPE, clockRate: 90000 };
    return {
      mimeType: 'video/H264',
      payloadType: PAYLOAD_TYPE,
      clockRate: 90000,
      parameters: { 'packetization-mode': this.mode.packetizationMode ?? 1, 'profile-level-id': this.mode.profileLevelId },
    };
  }

  /** ffmpeg's video options for the chosen path. */
  private videoArgs(source: Source): string[] {
    if (this.mode.mode === 'encode') {
      // One thread per ffmpeg: with libvpx's default pool two encoders on 2 cores took ~71% of
      // a core each instead of ~10% (measured); streams scale out by process, not by thread.
      return ['-c:v', 'libvpx', '-threads', '1', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k', '-pix_fmt', 'yuv420p', '-force_key_frames', 'expr:gte(t,n_forced*1)', '-error-resilient', '1'];
    }
    if (this.mode.codec === 'VP8') return ['-c:v', 'copy'];
    // The tap's SDP has no sprop-parameter-sets: SPS/PPS go in-band before every IDR, so a
    // tap (or viewer) starting at any keyframe can decode. MP4 keeps them out of band (avcC).
    const bsf = source.kind === 'file' ? 'h264_mp4toannexb,dump_extra=freq=keyframe' : 'dump_extra=freq=keyframe';
    return ['-c:v', 'copy', '-bsf:v', bsf];
  }

  private launch(source: Source, ssrc: number): Promise<unknown> {
    // Closed while starting (the room closed during the probe) or between a retry's timer and
    // now: an ffmpeg started here would have no owner left to stop it.
    if (this.closed || !this.relay) return Promise.resolve();
    // The relay rebases this launch's RTP onto the end of the last one (rtp-relay.ts).
    this.relay.newLaunch();
    this.launchedMs = Date.now();
    const input = source.kind === 'rtsp' ? ['-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', source.input] : ['-re', ...(this.o.loop ? ['-stream_loop', '-1'] : []), '-i', source.input];
    const rtpflags = this.mode.packetizationMode === 0 ? 'skip_rtcp+h264_mode0' : 'skip_rtcp';
    const args = [
      '-nostdin', '-threads', '1', ...input, '-an',
      ...this.videoArgs(source),
      '-ssrc', String(ssrc), '-payload_type', String(PAYLOAD_TYPE), '-rtpflags', rtpflags,
      '-f', 'rtp',
      `rtp://127.0.0.1:${this.relay!.port}?pkt_size=1200`,
    ];
    const ffmpeg = startFfmpeg(this.o.ffmpegPath, args);
    this.ffmpeg = ffmpeg;
    this.o.log.debug({ stream: this.o.stream, args: args.map(this.redact) }, 'ingest ffmpeg launched');
    this.doneCpu = this.o.metrics.trackCpu(() => ffmpeg.cpuSeconds());
    return ffmpeg.exited.then(({ code }) => this.onExit(source, ssrc, code, ffmpeg));
  }

  /** A file that ends (no loop) is done; an RTSP camera that drops is retried with backoff. */
  private async onExit(source: Source, ssrc: number, code: number | null, ffmpeg: FfmpegProcess): Promise<void> {
    await this.doneCpu?.();
    if (this.closed || this.ffmpeg !== ffmpeg) return;
    if (source.kind === 'file' && code === 0) {
      this.o.log.info({ stream: this.o.stream }, 'file ingest ended');
      return;
    }
    this.retries++;
    this.o.metrics.ffmpegRestarts.inc({ kind: 'ingest' });
    const wait = Math.min(30_000, 1000 * 2 ** Math.min(this.retries, 5));
    // ffmpeg's stderr names the URL it failed on, password and all.
    const stderr = this.redact(ffmpeg.stderrTail());
    this.o.log.warn({ stream: this.o.stream, code, wait, stderr }, 'ingest ffmpeg exited; retrying');
    this.o.onState('reconnecting', stderr || `ffmpeg exited (${code}); retrying in ${wait / 1000} s`);
    this.retryTimer = setTimeout(() => {
      if (this.closed) return;
      const relaunched = this.launch(source, ssrc);
      // The relay is the same source, so no new 'tuple' event: call it live once ffmpeg stays up.
      const upTimer = setTimeout(() => {
        if (this.closed) return;
        this.retries = 0;
        this.o.onState('live');
      }, 3000);
      void relaunched.then(() => clearTimeout(upTimer));
    }, wait);
  }

  /** Every second: stop an ffmpeg that runs but sends nothing, so onExit relaunches it. */
  private watch(): void {
    const ffmpeg = this.ffmpeg;
    if (this.closed || !ffmpeg || ffmpeg.child.exitCode !== null || ffmpeg.child.signalCode !== null) return;
    const silentMs = Date.now() - Math.max(this.launchedMs, this.relay?.lastPacketMs ?? 0);
    if (silentMs < INGEST_SILENT_MS) return;
    this.o.log.warn({ stream: this.o.stream, silentMs }, 'ingest ffmpeg runs but sends nothing; restarting it');
    this.launchedMs = Date.now(); // once: stop() takes up to a second
    void ffmpeg.stop();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    await this.doneCpu?.();
    await this.ffmpeg?.stop();
    await this.relay?.close();
    this.transport?.close();
    if (this.localPort !== undefined) this.o.ports.release(this.localPort);
    this.localPort = undefined;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
