import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { LookoutError, rpc, type ErrorCode, type FacesMessage } from '@lookout/contracts';
import { call, type Logger } from '@lookout/service-kit';
import { FrameDecoder } from './frame-decoder.js';
import { InOrderWindow } from './in-order-window.js';
import type { JobMetrics, RetryReason } from './job-metrics.js';
import { Backoff } from './progress-rate.js';

/** Codes that mean this picture cannot be analysed: counted as failed, never asked again. */
const BAD_FRAME: ReadonlySet<ErrorCode> = new Set(['not_jpeg', 'too_large', 'bad_dimensions', 'corrupt', 'invalid_request']);
/** A replica gone or too busy: asked again for as long as the job runs. Anything else a few times. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['unavailable', 'busy']);
const MAX_OTHER_ERRORS = 5;

export interface RunnerJob {
  jobId: string;
  room: string;
  stream: string;
  fps: number;
  videoBaseMs: number;
  /** Frames done by earlier runs (skipped) and how many of them failed. */
  framesDone: number;
  framesFailed: number;
}

export interface RunnerSettings {
  ffmpegPath: string;
  window: number;
  frameTimeoutMs: number;
  maxWidth: number;
  maxDurationS: number;
}

export interface RunnerProgress {
  framesDone: number;
  framesFailed: number;
  /** Known once the decoder reached the end of the video. */
  framesTotal?: number;
  waiting?: string;
}

export type RunResult = { outcome: 'done'; framesTotal: number } | { outcome: 'stopped' };

export interface RunnerOptions {
  nc: NatsConnection;
  job: RunnerJob;
  videoPath: string;
  settings: RunnerSettings;
  metrics: JobMetrics;
  log: Logger;
  onProgress: (p: RunnerProgress) => void;
}

/** Wakes every waiter: the decoder loop (room in the window) and the reid loop (a head). */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * Runs one job once through: decodes its video (from the start, skipping the frames an
 * earlier run finished), keeps up to `window` frames at the detectors, and hands their
 * faces to reid in order. Nothing is dropped: a call nobody answered is asked again after
 * a backoff, and the job says why it waits (`waiting`). Stopped by `stop()` (a cancel, a
 * shutdown, a job taken over) wherever it is.
 */
export class JobRunner {
  private readonly abort = new AbortController();
  private readonly changed = new Notifier();
  private readonly win: InOrderWindow<FacesMessage>;
  private framesFailed: number;
  private framesTotal: number | undefined;
  private waiting: string | undefined;
  private decoder: FrameDecoder | undefined;

  constructor(private readonly o: RunnerOptions) {
    this.win = new InOrderWindow(o.settings.window, o.job.framesDone);
    this.framesFailed = o.job.framesFailed;
  }

  stop(): void {
    this.abort.abort();
    this.changed.notify();
    void this.decoder?.close();
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  async run(): Promise<RunResult> {
    const s = this.o.settings;
    const decoder = new FrameDecoder({ ffmpegPath: s.ffmpegPath, file: this.o.videoPath, fps: this.o.job.fps, maxWidth: s.maxWidth, maxDurationS: s.maxDurationS });
    this.decoder = decoder;
    if (this.stopped) void decoder.close();
    const reid = this.reidLoop();
    try {
      let seq = 0;
      for (;;) {
        while (this.win.full && !this.stopped) await this.changed.wait();
        if (this.stopped) break;
        const jpeg = await decoder.next();
        if (!jpeg) break;
        const n = seq++;
        if (n < this.win.next) continue; // done by an earlier run
        this.win.admit(n);
        void this.detect(n, jpeg).catch((err: Error) => {
          // A bug, not a replica's answer: the frame is skipped rather than the job stuck behind it.
          this.o.log.error({ jobId: this.o.job.jobId, seq: n, error: err.message }, 'job frame lost its way');
          try {
            this.win.failed(n);
          } catch {
            // it had been answered already: nothing to skip
          }
          this.changed.notify();
        });
      }
      const exit = await decoder.exited;
      if (this.stopped) return { outcome: 'stopped' };
      if (seq === 0) throw new LookoutError('not_video', `video: ffmpeg decoded no frame (${exit.stderr || `exit ${exit.code ?? exit.signal}`})`, 'video');
      if (exit.signal) throw new Error(`ffmpeg was killed (${exit.signal}) after ${seq} frames`);
      if (exit.code !== 0) this.o.log.warn({ jobId: this.o.job.jobId, frames: seq, code: exit.code, stderr: exit.stderr }, 'ffmpeg stopped early: the job ends where the video could be read');
      this.framesTotal = Math.max(seq, this.win.next);
      this.emit();
      this.changed.notify();
      await reid;
      return this.stopped ? { outcome: 'stopped' } : { outcome: 'done', framesTotal: this.framesTotal };
    } finally {
      this.stop();
      await reid.catch(() => undefined);
    }
  }

  private captureMs(seq: number): number {
    return this.o.job.videoBaseMs + Math.round((seq * 1000) / this.o.job.fps);
  }

  /** One frame at the detectors until one answers (or the frame proves unreadable). */
  private async detect(seq: number, jpeg: Buffer): Promise<void> {
    const { jobId, room, stream } = this.o.job;
    const backoff = new Backoff();
    let others = 0;
    while (!this.stopped) {
      try {
        const faces = await call(this.o.nc, rpc.detector.analyzeFrame, { job: jobId, room, stream, seq, captureMs: this.captureMs(seq) }, { payload: jpeg, timeoutMs: this.o.settings.frameTimeoutMs });
        this.flowing();
        this.win.detected(seq, faces);
        this.changed.notify();
        return;
      } catch (err) {
        const e = asLookoutError(err);
        if (BAD_FRAME.has(e.code) || (!TRANSIENT.has(e.code) && ++others > MAX_OTHER_ERRORS)) {
          this.o.log.warn({ jobId, seq, code: e.code, error: e.message }, 'a frame of the job cannot be analysed: skipped');
          this.win.failed(seq);
          this.changed.notify();
          return;
        }
        this.retrying(e, 'detector');
        await sleep(backoff.next(), this.abort.signal);
      }
    }
  }

  /** Hands the analysed frames to reid, strictly in order, one at a time. */
  private async reidLoop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.framesTotal !== undefined && this.win.done >= this.framesTotal) return;
      const head = this.win.head();
      if (!head) {
        await this.changed.wait();
        continue;
      }
      if (head.failed) {
        this.framesFailed++;
        this.o.metrics.frames.inc({ outcome: 'failed' });
      } else {
        const outcome = await this.toReid(head.value);
        if (outcome === undefined) return;
        this.o.metrics.frames.inc({ outcome: outcome === 'failed' ? 'failed' : outcome === 'late' ? 'late' : 'done' });
        if (outcome === 'failed') this.framesFailed++;
      }
      this.win.acknowledge(head.seq);
      this.changed.notify();
      this.emit();
    }
  }

  /** One frame's faces at reid until it is counted; undefined when the job stopped meanwhile. */
  private async toReid(faces: FacesMessage): Promise<'committed' | 'late' | 'failed' | undefined> {
    const backoff = new Backoff();
    let others = 0;
    while (!this.stopped) {
      try {
        const r = await call(this.o.nc, rpc.reid.analyzeFrame, faces, { timeoutMs: this.o.settings.frameTimeoutMs });
        this.flowing();
        if (r.outcome !== 'uncommitted') return r.outcome;
        this.o.metrics.retries.inc({ reason: 'reid_uncommitted' });
      } catch (err) {
        const e = asLookoutError(err);
        if (!TRANSIENT.has(e.code) && ++others > MAX_OTHER_ERRORS) {
          this.o.log.warn({ jobId: this.o.job.jobId, seq: faces.seq, code: e.code, error: e.message }, 'reid keeps refusing a frame of the job: skipped');
          return 'failed';
        }
        this.retrying(e, 'reid');
      }
      await sleep(backoff.next(), this.abort.signal);
    }
    return undefined;
  }

  private retrying(e: LookoutError, who: 'detector' | 'reid'): void {
    const kind = e.code === 'unavailable' ? 'unavailable' : e.code === 'busy' ? 'busy' : 'error';
    this.o.metrics.retries.inc({ reason: `${who}_${kind}` as RetryReason });
    const why = kind === 'unavailable' ? `no ${who} answered` : kind === 'busy' ? `every ${who} is busy` : `${who} error: ${e.code}`;
    if (this.waiting !== why) {
      this.waiting = why;
      this.emit();
    }
  }

  /** An answer came: whatever the job waited for is back. */
  private flowing(): void {
    if (this.waiting === undefined) return;
    this.waiting = undefined;
    this.emit();
  }

  private emit(): void {
    this.o.onProgress({
      framesDone: this.win.done,
      framesFailed: this.framesFailed,
      ...(this.framesTotal !== undefined ? { framesTotal: this.framesTotal } : {}),
      ...(this.waiting !== undefined ? { waiting: this.waiting } : {}),
    });
  }
}

function asLookoutError(err: unknown): LookoutError {
  return err instanceof LookoutError ? err : new LookoutError('internal', (err as Error).message);
}

/** A delay that a stop cuts short (resolves either way). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
