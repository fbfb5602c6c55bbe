import type { types } from 'mediasoup';
import type { NatsConnection } from '@nats-io/transport-node';
import { LookoutError, type StreamAnalysis, type StreamInfo, type StreamState } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { FrameTap, type TapTiming } from '../tap/frame-tap.js';
import { Ingest, type IngestSettings } from '../ingest/ingest.js';
import type { RtpPortPool } from '../tap/rtp-ports.js';
import type { MediaCaps } from './media-limits.js';
import type { TapMetrics } from '../tap/tap-metrics.js';
import { TapStatus } from '../tap/tap-status.js';

export interface RoomContext {
  nc: NatsConnection;
  log: Logger;
  metrics: TapMetrics;
  ports: RtpPortPool;
  ffmpegPath: string;
  /** The room's tap width: its config's `detection.maxFrameWidth`, else MAX_FRAME_WIDTH. */
  maxWidth: (room: string) => number;
  tapTiming: TapTiming;
  ingest: IngestSettings;
  webRtc: { listenIp: string; announcedIp?: string; maxIncomingBitrate: number; initialOutgoingBitrate: number };
  /** Caps on each room's WebRTC transports, producers and consumers (per peer, per room). */
  limits: MediaCaps;
  /** The media of a stream changed state (`stream_state`). */
  onStreamState: (room: string, stream: string, state: StreamState, error?: string) => void;
  /** The analysis of a stream changed state (`analysis_state`). */
  onAnalysisState: (room: string, stream: string, analysis: StreamAnalysis) => void;
}

interface StreamEntry {
  source: 'webrtc' | 'ingest';
  peer?: string;
  producer?: types.Producer;
  tap?: FrameTap;
  ingest?: Ingest;
  /** The media's state; the analysis has its own, in `status`. */
  state: StreamState;
  error?: string;
  status: TapStatus;
}

/**
 * A room's video streams: each one's producer (a webcam's, or an ingest's), the frame tap
 * that samples it, and two separate states — is the video there (media), and is it being
 * analysed (the tap's `TapStatus`).
 */
export class RoomStreams {
  private readonly streams = new Map<string, StreamEntry>();
  private closed = false;

  constructor(
    private readonly room: string,
    private readonly router: types.Router,
    private sampleFps: number,
    private readonly ctx: RoomContext,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  has(stream: string): boolean {
    return this.streams.has(stream);
  }

  /** Analysis states of the streams, for the SFU's gauge. */
  analysisStates(): StreamAnalysis['state'][] {
    return [...this.streams.values()].map((e) => e.status.current.state);
  }

  addWebRtc(stream: string, peer: string, producer: types.Producer): void {
    if (this.streams.has(stream)) throw new LookoutError('stream_exists', `stream: ${stream} already exists in room ${this.room}`, 'stream');
    this.streams.set(stream, { source: 'webrtc', peer, producer, state: 'starting', status: this.newStatus(stream) });
    // The media is live once mediasoup scores the incoming RTP (or a frame decodes, below).
    producer.observer.on('score', (scores: types.ProducerScore[]) => scores.some((s) => s.score > 0) && this.setState(stream, 'live'));
    this.follow(producer, stream);
  }

  /** `initial` is `reconnecting` for an ingest built again after its router was lost (RoomManager). */
  async addIngest(stream: string, url: string, loop: boolean, initial: 'starting' | 'reconnecting' = 'starting'): Promise<types.Producer> {
    if (this.streams.get(stream)?.state === 'failed') this.streams.delete(stream);
    if (this.streams.has(stream)) throw new LookoutError('stream_exists', `stream: ${stream} already exists in room ${this.room}`, 'stream');
    const entry: StreamEntry = { source: 'ingest', state: initial, status: this.newStatus(stream) };
    this.streams.set(stream, entry);
    const ingest = new Ingest({
      router: this.router,
      stream,
      url,
      loop,
      ffmpegPath: this.ctx.ffmpegPath,
      ports: this.ctx.ports,
      settings: this.ctx.ingest,
      log: this.ctx.log.child({ room: this.room, stream }),
      metrics: this.ctx.metrics,
      onState: (state, error) => this.setState(stream, state, error),
    });
    entry.ingest = ingest;
    try {
      const producer = await ingest.start();
      entry.producer = producer;
      this.setState(stream, 'live');
      this.follow(producer, stream);
      return producer;
    } catch (err) {
      // Keep the failed stream visible in listStreams with its reason.
      this.setState(stream, 'failed', (err as Error).message);
      entry.ingest = undefined;
      throw err;
    }
  }

  async stopIngest(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry || entry.source !== 'ingest') throw new LookoutError('unknown_stream', `stream: no ingest ${stream} in room ${this.room}`, 'stream');
    await this.end(stream, 'closed');
  }

  /** The stream's producer closed (its transport or its peer went away). */
  producerClosed(stream: string, producer: types.Producer): void {
    const entry = this.streams.get(stream);
    if (entry?.producer !== producer) return;
    // The router went with its worker: the room and its ingests are built again on another
    // router (RoomManager), so an ingest is reconnecting, not closed.
    void this.end(stream, this.router.closed && entry.source === 'ingest' ? 'reconnecting' : 'closed');
  }

  get sampleRate(): number {
    return this.sampleFps;
  }

  async setSampleRate(fps: number): Promise<void> {
    this.sampleFps = fps;
    await Promise.all([...this.streams.values()].map((s) => s.tap?.restart()));
  }

  list(): StreamInfo[] {
    return [...this.streams].map(([stream, e]) => ({
      stream,
      source: e.source,
      ...(e.peer ? { peer: e.peer } : {}),
      ...(e.producer ? { producerId: e.producer.id } : {}),
      state: e.state,
      ...(e.error ? { error: e.error } : {}),
      analysis: { ...e.status.current },
      framesPublished: e.tap?.published ?? 0,
      ...(e.tap?.size ?? {}),
      ...(e.ingest ? { ingest: e.ingest.info } : {}),
    }));
  }

  /** Stops every tap and ingest (their ffmpeg first). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.streams.values()].map((s) => Promise.all([s.tap?.close(), s.ingest?.close()])));
    this.streams.clear();
  }

  private newStatus(stream: string): TapStatus {
    return new TapStatus(Date.now(), (analysis) => this.ctx.onAnalysisState(this.room, stream, analysis));
  }

  /** Taps while the producer sends; a paused producer stops its tap, resuming starts it again. */
  private follow(producer: types.Producer, stream: string): void {
    producer.observer.on('pause', () => void this.stopTap(stream));
    producer.observer.on('resume', () => {
      this.streams.get(stream)?.status.resumed(Date.now());
      void this.startTap(stream);
    });
    void this.startTap(stream);
  }

  private async startTap(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry?.producer || entry.tap || this.closed) return;
    const tap = new FrameTap({
      router: this.router,
      producer: entry.producer,
      room: this.room,
      stream,
      ...(entry.peer ? { peer: entry.peer } : {}),
      nc: this.ctx.nc,
      ffmpegPath: this.ctx.ffmpegPath,
      ports: this.ctx.ports,
      fps: () => this.sampleFps,
      maxWidth: () => this.ctx.maxWidth(this.room),
      log: this.ctx.log.child({ room: this.room, stream }),
      metrics: this.ctx.metrics,
      timing: this.ctx.tapTiming,
      status: entry.status,
      onFrameSize: () => this.setState(stream, 'live'),
    });
    entry.tap = tap;
    await tap.start();
  }

  private async stopTap(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    const tap = entry?.tap;
    if (!entry || !tap) return;
    entry.tap = undefined;
    entry.status.paused(Date.now());
    await tap.close();
  }

  private setState(stream: string, state: StreamState, error?: string): void {
    const entry = this.streams.get(stream);
    if (!entry || (entry.state === state && entry.error === error)) return;
    entry.state = state;
    if (error) entry.error = error;
    else delete entry.error;
    this.ctx.onStreamState(this.room, stream, state, error);
  }

  private async end(stream: string, state: 'closed' | 'failed' | 'reconnecting', error?: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry) return;
    this.setState(stream, state, error);
    this.streams.delete(stream);
    await Promise.all([entry.tap?.close(), entry.ingest?.close()]);
  }
}
