import type { types } from 'mediasoup';
import { LookoutError, type StreamInfo } from '@lookout/contracts';
import { MediaCounter } from './media-limits.js';
import { RoomStreams, type RoomContext } from './room-streams.js';

export type { RoomContext } from './room-streams.js';

/**
 * A room is a mediasoup router plus everything created in it. Closing the room closes
 * the router, and mediasoup closes every transport, producer and consumer below it; taps
 * and ingests stop their ffmpeg first. Its clients' transports, producers and consumers
 * are counted against the caps of `ctx.limits` (per peer, per room): a slot is taken
 * before mediasoup creates the object and given back when the object closes.
 */
export class Room {
  private readonly transports = new Map<string, { transport: types.WebRtcTransport; peer: string }>();
  private readonly producers = new Map<string, { producer: types.Producer; stream: string }>();
  private readonly consumers = new Map<string, types.Consumer>();
  readonly streams: RoomStreams;
  private readonly counts: { transport: MediaCounter; producer: MediaCounter; consumer: MediaCounter };
  private closed = false;

  constructor(
    readonly id: string,
    readonly router: types.Router,
    readonly workerPid: number,
    sampleFps: number,
    private readonly ctx: RoomContext,
  ) {
    this.streams = new RoomStreams(id, router, sampleFps, ctx);
    const { limits } = ctx;
    this.counts = {
      transport: new MediaCounter('transport', limits.transport, id),
      producer: new MediaCounter('producer', limits.producer, id),
      consumer: new MediaCounter('consumer', limits.consumer, id),
    };
  }

  get streamCount(): number {
    return this.streams.size;
  }

  async createWebRtcTransport(peer: string, direction: 'send' | 'recv') {
    const { listenIp, announcedIp, maxIncomingBitrate, initialOutgoingBitrate } = this.ctx.webRtc;
    const release = this.counts.transport.acquire(peer);
    let transport: types.WebRtcTransport;
    try {
      transport = await this.router.createWebRtcTransport({
        listenIps: [{ ip: listenIp, ...(announcedIp ? { announcedIp } : {}) }],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: initialOutgoingBitrate,
        appData: { peer, direction },
      });
    } catch (err) {
      release();
      throw err;
    }
    // Tracked before anything else can fail, so a failure below cannot leak its ports.
    this.transports.set(transport.id, { transport, peer });
    transport.observer.once('close', () => {
      this.transports.delete(transport.id);
      release();
    });
    if (direction === 'send') {
      try {
        await transport.setMaxIncomingBitrate(maxIncomingBitrate);
      } catch (err) {
        transport.close();
        throw err;
      }
    }
    return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
  }

  private transport(id: string): types.WebRtcTransport {
    return this.transportEntry(id).transport;
  }

  private transportEntry(id: string): { transport: types.WebRtcTransport; peer: string } {
    const entry = this.transports.get(id);
    if (!entry) throw new LookoutError('unknown_transport', `transportId: no transport ${id} in room ${this.id}`, 'transportId');
    return entry;
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
    if (kind === 'video' && this.streams.has(stream)) throw new LookoutError('stream_exists', `stream: ${stream} already exists in room ${this.id}`, 'stream');
    const release = this.counts.producer.acquire(peer);
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters, appData: { peer, stream } });
    } catch (err) {
      release();
      throw err;
    }
    producer.observer.once('close', release);
    this.trackProducer(producer, stream);
    if (kind === 'video') this.streams.addWebRtc(stream, peer, producer);
    return producer.id;
  }

  private trackProducer(producer: types.Producer, stream: string): void {
    this.producers.set(producer.id, { producer, stream });
    producer.observer.once('close', () => {
      this.producers.delete(producer.id);
      this.streams.producerClosed(stream, producer);
    });
  }

  closeProducer(id: string): void {
    const entry = this.producers.get(id);
    if (!entry) throw new LookoutError('unknown_producer', `producerId: no producer ${id} in room ${this.id}`, 'producerId');
    entry.producer.close();
  }

  /** Counted against the peer that owns the transport. */
  async consume(transportId: string, producerId: string, rtpCapabilities: types.RtpCapabilities) {
    const { transport, peer } = this.transportEntry(transportId);
    if (!this.producers.has(producerId)) throw new LookoutError('unknown_producer', `producerId: no producer ${producerId} in room ${this.id}`, 'producerId');
    if (!this.router.canConsume({ producerId, rtpCapabilities })) {
      throw new LookoutError('cannot_consume', 'rtpCapabilities: the client cannot receive this producer\'s codec', 'rtpCapabilities');
    }
    const release = this.counts.consumer.acquire(peer);
    let consumer: types.Consumer;
    try {
      consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
    } catch (err) {
      release();
      throw err;
    }
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => {
      this.consumers.delete(consumer.id);
      release();
    });
    return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
  }

  async resumeConsumer(id: string): Promise<void> {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new LookoutError('unknown_consumer', `consumerId: no consumer ${id} in room ${this.id}`, 'consumerId');
    await consumer.resume();
  }

  async ingest(stream: string, url: string, loop: boolean, initial?: 'starting' | 'reconnecting'): Promise<string> {
    const producer = await this.streams.addIngest(stream, url, loop, initial);
    this.trackProducer(producer, stream);
    return producer.id;
  }

  async stopIngest(stream: string): Promise<void> {
    await this.streams.stopIngest(stream);
  }

  /** Frames per second sampled from each stream. */
  get sampleRate(): number {
    return this.streams.sampleRate;
  }

  setSampleRate(fps: number): Promise<void> {
    return this.streams.setSampleRate(fps);
  }

  listStreams(): StreamInfo[] {
    return this.streams.list();
  }

  /** Stops every tap and ingest (their ffmpeg first), then closes the router and all below it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.streams.close();
    this.router.close();
  }

  get transportCount(): number {
    return this.transports.size;
  }
}
