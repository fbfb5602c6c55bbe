import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { JpegSplitter } from '@lookout/service-kit';

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
  /** The last lines ffmpeg wrote to stderr (errors only: -v error). */
  stderr: string;
}

/** The arguments, exported for the docs and the test: sample at `fps`, scale, JPEG out. */
export function decoderArgs(o: DecoderOptions): string[] {
  return [
    '-nostdin', '-v', 'error', '-i', o.file, '-map', '0:v:0', '-an', '-sn', '-dn',
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
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly queue: Buffer[] = [];
  private readonly highWater: number;
  private ended = false;
  /** Closed by its user: frames still queued are dropped, none is handed out. */
  private closed = false;
  private paused = false;
  private wake: (() => void) | undefined;
  private stderrTail = '';
  readonly exited: Promise<DecoderExit>;

  constructor(o: DecoderOptions) {
    this.highWater = o.highWater ?? 2;
    this.proc = spawn(o.ffmpegPath, decoderArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
    const splitter = new JpegSplitter((jpeg) => {
      this.queue.push(jpeg);
      if (this.queue.length >= this.highWater && !this.paused) {
        this.paused = true;
        this.proc.stdout.pause();
      }
      this.notify();
    });
    this.proc.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    this.exited = new Promise((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, why?: string) => {
        if (settled) return;
        settled = true;
        this.ended = true;
        this.notify();
        resolve({ code, signal, stderr: why ?? this.stderrTail.trim() });
      };
      // A binary that cannot start never closes its pipes.
      this.proc.on('error', (err) => {
        if (this.proc.pid === undefined) finish(null, null, err.message);
      });
      // 'close': stdout is drained too, so every frame is in the queue.
      this.proc.on('close', (code, signal) => finish(code, signal));
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
          this.proc.stdout.resume();
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
    if (!this.ended) this.proc.kill('SIGKILL');
    this.notify();
    return this.exited;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
