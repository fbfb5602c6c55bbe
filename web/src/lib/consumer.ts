import { Device, type types } from 'mediasoup-client';
import { transportIce } from './ice';
import type { LiveSocket } from './live-socket';

/**
 * The dashboard's side of the SFU: one recv transport over the live socket carrying a
 * consumer per watched producer. ICE restarts on `failed` (and on `disconnected` that
 * lasts); after the socket reconnects the gateway has closed the transport, so the page
 * calls `reset()` and watches again.
 */
export interface Watched {
  producerId: string;
  track: MediaStreamTrack;
  /** For the video delay that keeps the overlay in sync (jitterBufferTarget). */
  receiver: RTCRtpReceiver | undefined;
  close(): void;
}

type TransportParams = Parameters<Device['createRecvTransport']>[0];
type IceParameters = Parameters<types.Transport['restartIce']>[0]['iceParameters'];
const DISCONNECT_GRACE_MS = 2_000;

export class RoomViewer {
  /** Transport state for the page's status line. */
  onState: (state: string) => void = () => undefined;
  private device: Device | undefined;
  private transport: Promise<types.Transport> | undefined;
  private readonly consumers = new Map<string, types.Consumer>();

  constructor(private readonly socket: LiveSocket) {}

  async watch(producerId: string): Promise<Watched> {
    // A failed attempt is forgotten so that the next watch tries again.
    const t = await (this.transport ??= this.createTransport().catch((err: unknown) => {
      this.transport = undefined;
      throw err;
    }));
    const device = this.device!;
    const c = await this.socket.signal<{ id: string; kind: 'video' | 'audio'; rtpParameters: types.RtpParameters }>('consume', {
      transportId: t.id,
      producerId,
      rtpCapabilities: device.rtpCapabilities,
    });
    const consumer = await t.consume({ id: c.id, producerId, kind: c.kind, rtpParameters: c.rtpParameters });
    this.consumers.set(consumer.id, consumer);
    // Consumers start paused on the SFU so no packet is lost before the track is wired.
    await this.socket.signal('resumeConsumer', { consumerId: c.id });
    return {
      producerId,
      track: consumer.track,
      receiver: consumer.rtpReceiver,
      close: () => (consumer.close(), this.consumers.delete(consumer.id)),
    };
  }

  /** Forgets the transport (the gateway closed it with the old socket). */
  reset(): void {
    for (const c of this.consumers.values()) c.close();
    this.consumers.clear();
    const t = this.transport;
    this.transport = undefined;
    void t?.then((x) => x.close()).catch(() => undefined);
  }

  private async createTransport(): Promise<types.Transport> {
    if (!this.device) {
      const device = await Device.factory();
      await device.load({ routerRtpCapabilities: await this.socket.signal('getRouterRtpCapabilities') });
      this.device = device;
    }
    const params = await this.socket.signal<TransportParams>('createWebRtcTransport', { direction: 'recv' });
    // TURN servers from the join (and relay only with `relay=1`): strict NATs and firewalls.
    const t = this.device.createRecvTransport({ ...params, ...transportIce(this.socket.iceServers) });
    t.on('connect', ({ dtlsParameters }, done, fail) => void this.socket.signal('connectTransport', { transportId: t.id, dtlsParameters }).then(() => done(), fail));
    let grace: ReturnType<typeof setTimeout> | undefined;
    t.on('connectionstatechange', (state) => {
      this.onState(state);
      clearTimeout(grace);
      if (state === 'failed') void this.restartIce(t);
      if (state === 'disconnected') grace = setTimeout(() => t.connectionState === 'disconnected' && void this.restartIce(t), DISCONNECT_GRACE_MS);
    });
    return t;
  }

  private async restartIce(t: types.Transport): Promise<void> {
    if (t.closed || !this.socket.live) return;
    try {
      const { iceParameters } = await this.socket.signal<{ iceParameters: IceParameters }>('restartIce', { transportId: t.id });
      await t.restartIce({ iceParameters });
    } catch (err) {
      this.onState(`ICE restart failed: ${(err as Error).message}`);
    }
  }
}
