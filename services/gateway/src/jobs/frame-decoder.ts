import { JpegSplitter, startFfmpeg, type FfmpegProcess } from '@lookout/service-kit';

export interface DecoderOptions {
  ffmpegPath: string;
  file: string;
  fps: number;
  /** Frames wider than this are scaled down, aspect kept (as the live tap does). */
  maxWidth: number;
  /** Decode no further than this (the job's duration limit). */
  maxDurationS: number;
  /** Decoded frames held before ffmpeg's output is paused. */
  highWater?: number;
}

export interface DecoderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines ffmpeg wrote to stderr (errors only), or why it could not start. */
  stderr: string;
}

/** The arguments, exported for the docs and the test: sample at `fps`, scale, JPEG out. */
export function decoderArgs(o: DecoderOptions): string[] {
  return [
    '-nostdin', '-i', o.file, '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `fps=${o.fps},scale='min(${o.maxWidth},iw)':-2`,
    '-t', String(o.maxDurationS), '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1',
  ];
}

/**
 * A job's video as a pull stream of sampled JPEG frames. ffmpeg decodes as fast as frames
 * are taken: its stdout is paused while `highWater` frames wait, so memory stays bounded
 * whatever the video's length and however slow the detectors are.
 */
export class FrameDecoder {
  private readonly ffmpeg: FfmpegProcess;
  private readonly queue: Buffer[] = [];
  private readonly highWater: number;
  private ended = false;
  /** Closed by its user: frames still queued are dropped, none is handed out. */
  private closed = false;
  private paused = false;
  private wake: (() => void) | undefined;
  readonly exited: Promise<DecoderExit>;

  constructor(o: DecoderOptions) {
    this.highWater = o.highWater ?? 2;
    // startFfmpeg adds -hide_banner -loglevel error and keeps stderr's tail.
    this.ffmpeg = startFfmpeg(o.ffmpegPath, decoderArgs(o));
    const stdout = this.ffmpeg.child.stdout!;
    const splitter = new JpegSplitter((jpeg) => {
      this.queue.push(jpeg);
      if (this.queue.length >= this.highWater && !this.paused) {
        this.paused = true;
        stdout.pause();
      }
      this.notify();
    });
    stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    // 'close' (what `exited` waits for): stdout is drained too, so every frame is in the queue.
    this.exited = this.ffmpeg.exited.then((exit) => {
      this.ended = true;
      this.notify();
      return { code: exit.code, signal: exit.signal, stderr: exit.spawnError?.message ?? this.ffmpeg.stderrTail() };
    });
  }

  /** The next frame, or undefined once ffmpeg is done (see `exited` for how it ended). */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const frame = this.queue.shift();
      if (frame) {
        if (this.paused && this.queue.length < this.highWater) {
          this.paused = false;
          this.ffmpeg.child.stdout!.resume();
        }
        return frame;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stops decoding (a cancelled or taken-over job); `exited` settles once ffmpeg is gone. */
  close(): Promise<DecoderExit> {
    this.closed = true;
    this.queue.length = 0;
    if (!this.ended) this.ffmpeg.child.kill('SIGKILL');
    this.notify();
    return this.exited;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
