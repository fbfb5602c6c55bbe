import { FRAME_LIMITS } from '@lookout/contracts';
import type { LiveSocket } from './live-socket';

/**
 * The fallback media path: when WebRTC cannot connect, frames of the camera track are
 * drawn on a canvas, encoded as JPEG and sent over the WebSocket (`frame` + binary) at the
 * room's sample rate. The gateway publishes them on `frames.<room>.<stream>` like the
 * SFU's tap, so detector and reid work the same. A frame is skipped, not queued, while the
 * socket is down or earlier frames are unacknowledged: late frames are worth nothing.
 *
 * Frames come from the track itself (`ImageCapture.grabFrame`), not from a video element:
 * Chromium draws black from a video element that is not in the document, and the page's
 * own preview may be re-rendered or hidden at any time.
 */
const MAX_WIDTH = 640;
const QUALITY = 0.8;

/** The part of ImageCapture used here (not in TypeScript's DOM library). */
interface FrameGrabber {
  grabFrame(): Promise<ImageBitmap>;
}
declare const ImageCapture: { new (track: MediaStreamTrack): FrameGrabber } | undefined;

export class JpegUploader {
  sent = 0;
  skipped = 0;
  /** Why the last frame was skipped, for the page. */
  lastSkip = '';
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;
  private readonly canvas = document.createElement('canvas');
  private source: (() => Promise<CanvasImageSource & { width: number; height: number }>) | undefined;

  constructor(
    private readonly socket: LiveSocket,
    private readonly stream: string,
    track: MediaStreamTrack,
    private readonly fps: number,
  ) {
    this.setTrack(track);
  }

  setTrack(track: MediaStreamTrack): void {
    this.source = frameSource(track);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.capture(), 1000 / this.fps);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private skip(why: string): void {
    this.skipped++;
    this.lastSkip = why;
  }

  private async capture(): Promise<void> {
    if (this.busy || !this.source) return;
    if (!this.socket.live) return this.skip('not connected to the gateway');
    this.busy = true;
    try {
      const captureMs = Date.now();
      const frame = await this.source();
      const scale = Math.min(1, MAX_WIDTH / frame.width);
      const width = Math.round(frame.width * scale);
      const height = Math.round(frame.height * scale);
      this.canvas.width = width;
      this.canvas.height = height;
      this.canvas.getContext('2d')!.drawImage(frame, 0, 0, width, height);
      if (frame instanceof ImageBitmap) frame.close();
      const blob = await new Promise<Blob | null>((resolve) => this.canvas.toBlob(resolve, 'image/jpeg', QUALITY));
      if (!blob || blob.size > FRAME_LIMITS.maxBytes) return this.skip('the JPEG could not be made or is too large');
      if (!this.running) return;
      const ok = this.socket.sendFrame({ stream: this.stream, seq: this.seq, captureMs, width, height }, await blob.arrayBuffer());
      if (ok) {
        this.seq++;
        this.sent++;
      } else this.skip('earlier frames not yet acknowledged');
    } catch (err) {
      // The camera stopped or has no frame yet: try again at the next tick.
      this.skip(`no camera frame (${(err as Error).message})`);
    } finally {
      this.busy = false;
    }
  }
}

/** The next frame of `track`: ImageCapture where the browser has it, else a playing video element. */
function frameSource(track: MediaStreamTrack): () => Promise<CanvasImageSource & { width: number; height: number }> {
  if (typeof ImageCapture !== 'undefined') {
    const grabber = new ImageCapture(track);
    return () => grabber.grabFrame();
  }
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  void video.play().catch(() => undefined);
  return async () => {
    if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) throw new Error('no frame yet');
    return Object.assign(video, { width: video.videoWidth, height: video.videoHeight });
  };
}
