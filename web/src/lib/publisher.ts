import { Device, type types } from 'mediasoup-client';
import { transportIce } from './ice';
import { JpegUploader } from './jpeg-uploader';
import type { LiveSocket } from './live-socket';

/**
 * Publishes one camera track into the room: WebRTC to the SFU when it connects (signaling
 * over the live socket), else JPEG frames over the WebSocket (`JpegUploader`).
 *
 * - The send transport must reach `connected` within `connectTimeoutMs`; `produce()`
 *   resolves even when ICE never connects, so only the transport's state proves media
 *   flows. Not connected in time, or `failed` before it ever connected → fallback.
 * - Once connected: `disconnected` for DISCONNECT_GRACE_MS, or `failed` → ICE restart;
 *   a restart that does not reconnect in time → fallback.
 * - The gateway closes a socket's transports when the socket closes, so after the live
 *   socket reconnects (`joined`) the WebRTC path publishes again from scratch. A worker
 *   death (`sfuevent worker_died`: the room was built again on a new router, or adopted by
 *   another SFU) does the same, from the fallback path too: a publisher that fell back
 *   while its SFU was gone (ICE restart refused) goes back to WebRTC once the room is back.
 */
export type MediaPath = 'connecting' | 'webrtc' | 'ice-restart' | 'fallback' | 'stopped';

export interface PublisherState {
  path: MediaPath;
  detail: string;
}

export interface PublisherOptions {
  socket: LiveSocket;
  stream: string;
  track: MediaStreamTrack;
  /** Frames per second of the fallback upload (the room's sample rate). */
  fps: number;
  connectTimeoutMs?: number;
  onState: (s: PublisherState) => void;
}

const DISCONNECT_GRACE_MS = 2_000;
type TransportParams = Parameters<Device['createSendTransport']>[0];

export class Publisher {
  state: PublisherState = { path: 'connecting', detail: '' };
  readonly uploader: JpegUploader;
  private device: Device | undefined;
  private transport: types.Transport | undefined;
  private producer: types.Producer | undefined;
  private track: MediaStreamTrack;
  /** Bumped whenever the WebRTC attempt in progress is abandoned: its callbacks go quiet. */
  private generation = 0;
  private everConnected = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly offs: Array<() => void> = [];

  constructor(private readonly o: PublisherOptions) {
    this.track = o.track;
    this.uploader = new JpegUploader(o.socket, o.stream, o.track, o.fps);
  }

  start(): void {
    const again = () => this.state.path !== 'fallback' && this.state.path !== 'stopped' && void this.publish();
    this.offs.push(
      this.o.socket.on('joined', again),
      this.o.socket.on('sfuevent', (e) => e.type === 'worker_died' && (this.state.path === 'fallback' ? this.retryWebRtc() : again())),
    );
    if (this.o.socket.live) void this.publish();
    else this.set('connecting', 'Waiting for the gateway connection…');
  }

  /** Leaves the fallback path and tries WebRTC again (the page's "Try WebRTC again"). */
  retryWebRtc(): void {
    this.uploader.stop();
    void this.publish();
  }

  /** Switches camera without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    this.track = track;
    this.uploader.setTrack(track);
    await this.producer?.replaceTrack({ track });
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.closeTransport();
    this.uploader.stop();
    this.offs.splice(0).forEach((off) => off());
    this.set('stopped', 'Not publishing');
  }

  private async publish(): Promise<void> {
    const gen = ++this.generation;
    clearTimeout(this.timer);
    this.closeTransport();
    this.everConnected = false;
    this.set('connecting', 'Connecting media over WebRTC…');
    try {
      this.device ??= await this.loadDevice();
      const params = await this.o.socket.signal<TransportParams>('createWebRtcTransport', { direction: 'send' });
      if (gen !== this.generation) return void this.o.socket.signal('closeTransport', { transportId: params.id }).catch(() => undefined);
      // TURN servers from the join (and relay only with `relay=1`): strict NATs and firewalls.
      const t = this.device.createSendTransport({ ...params, ...transportIce(this.o.socket.iceServers) });
      this.transport = t;
      this.wire(t, gen);
      this.armTimer(gen, 'WebRTC did not connect');
      // stopTracks: false — closing the transport (fallback, reconnect) must not end the
      // camera: the preview and the fallback upload keep using it.
      this.producer = await t.produce({ track: this.track, stopTracks: false, codecOptions: { videoGoogleStartBitrate: 1000 } });
    } catch (err) {
      if (gen !== this.generation) return;
      // Without the socket nothing works; `joined` starts over once it is back.
      if (!this.o.socket.live) return this.set('connecting', 'Waiting for the gateway connection…');
      this.fallback(`WebRTC setup failed: ${(err as Error).message}`);
    }
  }

  private async loadDevice(): Promise<Device> {
    const device = await Device.factory();
    const caps = await this.o.socket.signal<Parameters<Device['load']>[0]['routerRtpCapabilities']>('getRouterRtpCapabilities');
    await device.load({ routerRtpCapabilities: caps });
    return device;
  }

  private wire(t: types.Transport, gen: number): void {
    const { socket, stream } = this.o;
    t.on('connect', ({ dtlsParameters }, done, fail) => void socket.signal('connectTransport', { transportId: t.id, dtlsParameters }).then(() => done(), fail));
    t.on('produce', ({ kind, rtpParameters }, done, fail) => void socket.signal<{ id: string }>('produce', { transportId: t.id, stream, kind, rtpParameters }).then(done, fail));
    t.on('connectionstatechange', (state) => gen === this.generation && this.onTransportState(state, gen));
  }

  private onTransportState(state: string, gen: number): void {
    if (state === 'connected') {
      clearTimeout(this.timer);
      this.everConnected = true;
      return this.set('webrtc', 'WebRTC connected: video goes to the SFU');
    }
    if (state === 'failed') {
      if (!this.everConnected) return this.fallback('WebRTC could not connect (ICE failed)');
      return void this.restartIce(gen);
    }
    if (state === 'disconnected') {
      this.set('ice-restart', 'WebRTC connection interrupted; restarting ICE if it does not come back…');
      clearTimeout(this.timer);
      this.timer = setTimeout(() => gen === this.generation && this.transport?.connectionState === 'disconnected' && void this.restartIce(gen), DISCONNECT_GRACE_MS);
    }
  }

  private async restartIce(gen: number): Promise<void> {
    const t = this.transport;
    if (!t) return;
    this.set('ice-restart', 'Restarting ICE…');
    try {
      const { iceParameters } = await this.o.socket.signal<{ iceParameters: Parameters<types.Transport['restartIce']>[0]['iceParameters'] }>('restartIce', { transportId: t.id });
      if (gen !== this.generation) return;
      await t.restartIce({ iceParameters });
      this.armTimer(gen, 'ICE restart did not reconnect');
    } catch (err) {
      if (gen === this.generation && this.o.socket.live) this.fallback(`ICE restart failed: ${(err as Error).message}`);
    }
  }

  private armTimer(gen: number, why: string): void {
    const ms = this.o.connectTimeoutMs ?? 6_000;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => gen === this.generation && this.transport?.connectionState !== 'connected' && this.fallback(`${why} within ${ms / 1000} s`), ms);
  }

  private fallback(reason: string): void {
    this.generation++;
    clearTimeout(this.timer);
    this.closeTransport();
    this.uploader.start();
    this.set('fallback', `Fallback upload: ${reason}. Sending JPEG frames over the WebSocket at ${this.o.fps} fps.`);
  }

  /** Closes the transport here and on the SFU (its producer and tap go with it). */
  private closeTransport(): void {
    const t = this.transport;
    this.transport = this.producer = undefined;
    if (!t) return;
    t.close();
    if (this.o.socket.live) void this.o.socket.signal('closeTransport', { transportId: t.id }).catch(() => undefined);
  }

  private set(path: MediaPath, detail: string): void {
    this.state = { path, detail };
    this.o.onState(this.state);
  }
}
