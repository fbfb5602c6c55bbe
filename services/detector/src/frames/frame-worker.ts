import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  decodeFrameHeaders,
  encodeJson,
  facesMessage,
  LookoutError,
  parseStreamSubject,
  queueGroups,
  streamKey,
  subjects,
  ValidationError,
  type FrameMeta,
} from '@lookout/contracts';
import { Counter, Gauge, Histogram, type Logger, type Registry } from '@lookout/service-kit';
import { BadFrameError } from '../pipeline/frame-decoder.js';
import type { FacePipeline } from '../pipeline/face-pipeline.js';
import type { AnalysisSettings } from '../settings/settings.js';
import { facesMessageOf } from './faces-message.js';
import { FrameScheduler } from './frame-scheduler.js';

export type DropReason = 'stale' | 'superseded' | 'bad_frame';

export interface FrameWorkerOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  pipeline: FacePipeline;
  settingsFor: (room: string) => AnalysisSettings;
  /** Frames older than this (capture time to processing start) are dropped. */
  maxFrameAgeMs: number;
  /** Recording-job frames that may wait on this replica (DETECTOR_JOB_QUEUE_MAX); more are `busy`. */
  maxJobFramesWaiting: number;
  workerId: string;
  now?: () => number;
}

interface PendingFrame {
  meta: FrameMeta;
  data: Uint8Array;
  receivedMs: number;
}

/** A recording job's frame waiting for its turn: run it, or tell its caller why it will not run. */
interface JobTurn {
  run(): Promise<void>;
  abandon(err: LookoutError): void;
}

/**
 * Consumes `frames.>` in the `detector` queue group and publishes `faces.<room>.<stream>`.
 * Live load is shed, never queued: one waiting frame per stream, stale frames dropped.
 * The same loop runs recording-job frames (`runJob`) when no live frame waits: those are
 * never shed, and a bounded number wait (FrameScheduler).
 */
export class FrameWorker {
  private sub: Subscription | undefined;
  private readonly queue: FrameScheduler<PendingFrame, JobTurn>;
  private stopped = false;
  private pumping: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly received: Counter<'room'>;
  private readonly processed: Counter<'room'>;
  private readonly dropped: Counter<'reason'>;
  private readonly latency: Histogram<'stage'>;

  constructor(private readonly opts: FrameWorkerOptions) {
    this.now = opts.now ?? Date.now;
    this.queue = new FrameScheduler(opts.maxJobFramesWaiting);
    const registers = [opts.metrics];
    this.received = new Counter({ name: 'lookout_detector_frames_received_total', help: 'Frames received', labelNames: ['room'], registers });
    this.processed = new Counter({ name: 'lookout_detector_frames_processed_total', help: 'Frames analysed and published', labelNames: ['room'], registers });
    this.dropped = new Counter({ name: 'lookout_detector_frames_dropped_total', help: 'Frames not analysed, by reason', labelNames: ['reason'], registers });
    this.latency = new Histogram({
      name: 'lookout_detector_stage_seconds',
      help: 'Time per stage of live frames: queue (receipt to start), decode, detect, each analyzer, total (capture to publish); recording-job frames are not counted here (lookout_rpc_served_seconds{op="detector.analyze_frame"})',
      labelNames: ['stage'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    for (const r of ['stale', 'superseded', 'bad_frame'] satisfies DropReason[]) this.dropped.inc({ reason: r }, 0);
    const queue = this.queue;
    new Gauge({
      name: 'lookout_detector_frames_waiting',
      help: 'Live frames waiting for analysis (at most one per stream); a scaling signal',
      registers,
      collect() {
        this.set(queue.liveWaiting);
      },
    });
  }

  start(): void {
    this.sub = this.opts.nc.subscribe(subjects.all('frames'), {
      queue: queueGroups.detector,
      callback: (err, msg) => {
        if (err) {
          this.opts.log.error({ err }, 'frames subscription error');
          return;
        }
        this.accept(msg);
      },
    });
  }

  private accept(msg: Msg): void {
    let meta: FrameMeta;
    try {
      meta = decodeFrameHeaders((name) => msg.headers?.get(name) || undefined);
      const addr = parseStreamSubject(msg.subject);
      if (!addr || addr.room !== meta.room || addr.stream !== meta.stream) {
        throw new ValidationError('frame headers', 'room', `subject ${msg.subject} does not match headers ${meta.room}/${meta.stream}`);
      }
    } catch (err) {
      this.drop('bad_frame', 'bad_headers', err as Error, msg.subject);
      return;
    }
    this.received.inc({ room: meta.room });
    const superseded = this.queue.pushLive(`${meta.room}.${meta.stream}`, { meta, data: msg.data, receivedMs: this.now() });
    if (superseded) this.dropped.inc({ reason: 'superseded' });
    this.kick();
  }

  /** Recording-job frames waiting for their turn (not counting the one being analysed). */
  get jobsWaiting(): number {
    return this.queue.jobsWaiting;
  }

  /**
   * Runs `work` (a frame of recording job `job`) in this worker's loop once no live frame
   * waits, taking turns with other jobs' frames. Rejects at once with `busy` when
   * DETECTOR_JOB_QUEUE_MAX job frames already wait and this job holds its share, and
   * with `unavailable` when the worker stops before its turn: either way the caller offers
   * the frame again (to another replica, or later), which is how a job stays lossless.
   */
  runJob<T>(job: string, work: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new LookoutError('unavailable', 'this detector is stopping'));
    return new Promise<T>((resolve, reject) => {
      const queued = this.queue.pushJob(job, { run: () => work().then(resolve, reject), abandon: reject });
      if (!queued) return reject(new LookoutError('busy', `${this.queue.maxJobsWaiting} recording-job frames already wait on this detector`));
      this.kick();
    });
  }

  private kick(): void {
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    for (let turn = this.queue.next(); turn; turn = this.queue.next()) {
      if (turn.kind === 'live') await this.process(turn.item);
      else await turn.item.run();
    }
  }

  private async process({ meta, data, receivedMs }: PendingFrame): Promise<void> {
    const start = this.now();
    if (start - meta.captureMs > this.opts.maxFrameAgeMs) {
      this.dropped.inc({ reason: 'stale' });
      return;
    }
    this.latency.observe({ stage: 'queue' }, (start - receivedMs) / 1000);
    try {
      const result = await this.opts.pipeline.analyze(data, this.opts.settingsFor(meta.room), {
        key: streamKey(meta.room, meta.stream),
        captureMs: meta.captureMs,
        backlog: this.queue.liveWaiting > 0,
      });
      const body = encodeJson(facesMessage, facesMessageOf(meta, result, start - receivedMs, this.opts.workerId));
      this.opts.nc.publish(subjects.faces(meta.room, meta.stream), body);
      this.processed.inc({ room: meta.room });
      for (const [stage, ms] of Object.entries(result.timings)) this.latency.observe({ stage }, ms / 1000);
      this.latency.observe({ stage: 'total' }, (this.now() - meta.captureMs) / 1000);
    } catch (err) {
      if (err instanceof BadFrameError) this.drop('bad_frame', err.reason, err, `${meta.room}/${meta.stream}#${meta.seq}`);
      else this.opts.log.error({ err, room: meta.room, stream: meta.stream, seq: meta.seq }, 'frame analysis failed');
    }
  }

  private drop(reason: DropReason, detail: string, err: Error, where: string): void {
    this.dropped.inc({ reason });
    this.opts.badMessages.inc({ subject_kind: 'frames', reason: detail });
    this.opts.log.warn({ where, detail, error: err.message }, 'dropped bad frame');
  }

  /**
   * Stops taking frames and waits for the one in progress. Job frames still waiting are
   * answered `unavailable` now rather than left to time out: their callers ask another
   * replica at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    const { jobs } = this.queue.clear();
    for (const job of jobs) job.abandon(new LookoutError('unavailable', 'this detector stopped before the frame\'s turn'));
    await this.pumping;
  }
}
