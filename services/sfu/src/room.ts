import type { types } from 'mediasoup';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamInfo, StreamState } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import { FrameTap } from './frame-tap.js';
import { Ingest } from './ingest.js';
import { RoomError } from './room-error.js';
import type { RtpPortPool } from './rtp-ports.js';
import type { TapMetrics } from './tap-metrics.js';

export interface RoomContext {
  nc: NatsConnection;
  log: Logger;
  metrics: TapMetrics;
  ports: RtpPortPool;
  ffmpegPath: string;
  maxWidth: number;
  ingestFileRoot: string;
  webRtc: { listenIp: string; announcedIp?: string; maxIncomingBitrate: number; initialOutgoingBitrate: number };
  onStreamState: (room: string, stream: string, state: StreamState, error?: string) => void;
}

interface StreamEntry {
  source: 'webrtc' | 'ingest';
  peer?: string;
  producer?: types.Producer;
  tap?: FrameTap;
  ingest?: Ingest;
  state: StreamState;
  error?: string;
}

/**
 * A room is a mediasoup router plus everything created in it. Closing the room closes
 * the router, and mediasoup closes every transport, producer and consumer below it; taps
 * and ingests stop their ffmpeg first.
 */
export class Room {
  private readonly transports = new Map<string, { transport: types.WebRtcTransport; peer: string }>();
  private readonly producers = new Map<string, { producer: types.Producer; stream: string }>();
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly streams = new Map<string, StreamEntry>();
  private closed = false;

  constructor(
    readonly id: string,
    readonly router: types.Router,
    readonly workerPid: number,
    private sampleFps: number,
    private readonly ctx: RoomContext,
  ) {}

  get streamCount(): number {
    return this.streams.size;
  }

  async createWebRtcTransport(peer: string, direction: 'send' | 'recv') {
    const { listenIp, announcedIp, maxIncomingBitrate, initialOutgoingBitrate } = this.ctx.webRtc;
    const transport = await this.router.createWebRtcTransport({
      listenIps: [{ ip: listenIp, ...(announcedIp ? { announcedIp } : {}) }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: initialOutgoingBitrate,
      appData: { peer, direction },
    });
    if (direction === 'send') await transport.setMaxIncomingBitrate(maxIncomingBitrate);
    this.transports.set(transport.id, { transport, peer });
    transport.observer.once('close', () => this.transports.delete(transport.id));
    return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
  }

  private transport(id: string): types.WebRtcTransport {
    const entry = this.transports.get(id);
    if (!entry) throw new RoomError('unknown_transport', `transportId: no transport ${id} in room ${this.id}`, 'transportId');
    return entry.transport;
  }

  async connectTransport(id: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.transport(id).connect({ dtlsParameters });
  }

  async restartIce(id: string): Promise<types.IceParameters> {
    return this.transport(id).restartIce();
  }

  closeTransport(id: string): void {
    this.transport(id).close();
  }

  async produce(peer: string, transportId: string, stream: string, kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<string> {
    const transport = this.transport(transportId);
    if (kind === 'video' && this.streams.has(stream)) throw new RoomError('stream_exists', `stream: ${stream} already exists in room ${this.id}`, 'stream');
    const producer = await transport.produce({ kind, rtpParameters, appData: { peer, stream } });
    this.trackProducer(producer, stream);
    if (kind === 'video') {
      this.streams.set(stream, { source: 'webrtc', peer, producer, state: 'starting' });
      this.followProducer(producer, stream);
    }
    return producer.id;
  }

  private trackProducer(producer: types.Producer, stream: string): void {
    this.producers.set(producer.id, { producer, stream });
    producer.observer.once('close', () => {
      this.producers.delete(producer.id);
      const entry = this.streams.get(stream);
      if (entry?.producer === producer) void this.endStream(stream, 'closed');
    });
  }

  /** Taps while the producer sends; a paused producer stops its tap, resuming starts it again. */
  private followProducer(producer: types.Producer, stream: string): void {
    producer.observer.on('pause', () => void this.stopTap(stream));
    producer.observer.on('resume', () => void this.startTap(stream));
    void this.startTap(stream);
  }

  private async startTap(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry?.producer || entry.tap || this.closed) return;
    const tap = new FrameTap({
      router: this.router,
      producer: entry.producer,
      room: this.id,
      stream,
      ...(entry.peer ? { peer: entry.peer } : {}),
      nc: this.ctx.nc,
      ffmpegPath: this.ctx.ffmpegPath,
      ports: this.ctx.ports,
      fps: () => this.sampleFps,
      maxWidth: this.ctx.maxWidth,
      log: this.ctx.log.child({ room: this.id, stream }),
      metrics: this.ctx.metrics,
      onLive: () => this.setState(stream, 'live'),
    });
    entry.tap = tap;
    try {
      await tap.start();
    } catch (err) {
      this.ctx.log.error({ err, room: this.id, stream }, 'tap failed to start');
      this.setState(stream, 'failed', (err as Error).message);
    }
  }

  private async stopTap(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    const tap = entry?.tap;
    if (!entry || !tap) return;
    entry.tap = undefined;
    await tap.close();
  }

  private setState(stream: string, state: StreamState, error?: string): void {
    const entry = this.streams.get(stream);
    if (!entry || (entry.state === state && entry.error === error)) return;
    entry.state = state;
    if (error) entry.error = error;
    else delete entry.error;
    this.ctx.onStreamState(this.id, stream, state, error);
  }

  private async endStream(stream: string, state: 'closed' | 'failed', error?: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry) return;
    this.setState(stream, state, error);
    this.streams.delete(stream);
    await Promise.all([entry.tap?.close(), entry.ingest?.close()]);
  }

  closeProducer(id: string): void {
    const entry = this.producers.get(id);
    if (!entry) throw new RoomError('unknown_producer', `producerId: no producer ${id} in room ${this.id}`, 'producerId');
    entry.producer.close();
  }

  async consume(transportId: string, producerId: string, rtpCapabilities: types.RtpCapabilities) {
    const transport = this.transport(transportId);
    if (!this.producers.has(producerId)) throw new RoomError('unknown_producer', `producerId: no producer ${producerId} in room ${this.id}`, 'producerId');
    if (!this.router.canConsume({ producerId, rtpCapabilities })) {
      throw new RoomError('cannot_consume', 'rtpCapabilities: the client cannot receive this producer\'s codec', 'rtpCapabilities');
    }
    const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
  }

  async resumeConsumer(id: string): Promise<void> {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new RoomError('unknown_consumer', `consumerId: no consumer ${id} in room ${this.id}`, 'consumerId');
    await consumer.resume();
  }

  async ingest(stream: string, url: string, loop: boolean): Promise<string> {
    if (this.streams.get(stream)?.state === 'failed') this.streams.delete(stream);
    if (this.streams.has(stream)) throw new RoomError('stream_exists', `stream: ${stream} already exists in room ${this.id}`, 'stream');
    const entry: StreamEntry = { source: 'ingest', state: 'starting' };
    this.streams.set(stream, entry);
    const ingest = new Ingest({
      router: this.router,
      stream,
      url,
      loop,
      ffmpegPath: this.ctx.ffmpegPath,
      ports: this.ctx.ports,
      fileRoot: this.ctx.ingestFileRoot,
      log: this.ctx.log.child({ room: this.id, stream }),
      metrics: this.ctx.metrics,
      onState: (state, error) => this.setState(stream, state, error),
    });
    entry.ingest = ingest;
    try {
      const producer = await ingest.start();
      entry.producer = producer;
      this.trackProducer(producer, stream);
      this.followProducer(producer, stream);
      return producer.id;
    } catch (err) {
      // Keep the failed stream visible in listStreams with its reason.
      this.setState(stream, 'failed', (err as Error).message);
      entry.ingest = undefined;
      throw err;
    }
  }

  async stopIngest(stream: string): Promise<void> {
    const entry = this.streams.get(stream);
    if (!entry || entry.source !== 'ingest') throw new RoomError('unknown_stream', `stream: no ingest ${stream} in room ${this.id}`, 'stream');
    await this.endStream(stream, 'closed');
  }

  /** Frames per second sampled from each stream. */
  get sampleRate(): number {
    return this.sampleFps;
  }

  async setSampleRate(fps: number): Promise<void> {
    this.sampleFps = fps;
    await Promise.all([...this.streams.values()].map((s) => s.tap?.restart()));
  }

  listStreams(): StreamInfo[] {
    return [...this.streams].map(([stream, e]) => ({
      stream,
      source: e.source,
      ...(e.producer ? { producerId: e.producer.id } : {}),
      state: e.state,
      ...(e.error ? { error: e.error } : {}),
      framesPublished: e.tap?.published ?? 0,
      ...(e.tap?.size ?? {}),
    }));
  }

  /** Stops every tap and ingest (their ffmpeg first), then closes the router and all below it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.streams.values()].map((s) => Promise.all([s.tap?.close(), s.ingest?.close()])));
    this.streams.clear();
    this.router.close();
  }

  get transportCount(): number {
    return this.transports.size;
  }
}
