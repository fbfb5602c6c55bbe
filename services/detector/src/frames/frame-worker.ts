import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  decodeFrameHeaders,
  encodeJson,
  facesMessage,
  parseStreamSubject,
  queueGroups,
  subjects,
  ValidationError,
  type FrameMeta,
} from '@lookout/contracts';
import { Counter, Gauge, Histogram, LatestFrameQueue, type Logger, type Registry } from '@lookout/service-kit';
import { BadFrameError } from '../pipeline/frame-decoder.js';
import type { FacePipeline } from '../pipeline/face-pipeline.js';
import type { AnalysisSettings } from '../settings/settings.js';

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
  workerId: string;
  now?: () => number;
}

interface PendingFrame {
  meta: FrameMeta;
  data: Uint8Array;
  receivedMs: number;
}

/**
 * Consumes `frames.>` in the `detector` queue group and publishes `faces.<room>.<stream>`.
 * Load is shed, never queued: one waiting frame per stream, stale frames dropped.
 */
export class FrameWorker {
  private sub: Subscription | undefined;
  private readonly queue = new LatestFrameQueue<PendingFrame>();
  private pumping: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly received: Counter<'room'>;
  private readonly processed: Counter<'room'>;
  private readonly dropped: Counter<'reason'>;
  private readonly latency: Histogram<'stage'>;

  constructor(private readonly opts: FrameWorkerOptions) {
    this.now = opts.now ?? Date.now;
    const registers = [opts.metrics];
    this.received = new Counter({ name: 'lookout_detector_frames_received_total', help: 'Frames received', labelNames: ['room'], registers });
    this.processed = new Counter({ name: 'lookout_detector_frames_processed_total', help: 'Frames analysed and published', labelNames: ['room'], registers });
    this.dropped = new Counter({ name: 'lookout_detector_frames_dropped_total', help: 'Frames not analysed, by reason', labelNames: ['reason'], registers });
    this.latency = new Histogram({
      name: 'lookout_detector_stage_seconds',
      help: 'Time per stage: queue (receipt to start), decode, detect, each analyzer, total (capture to publish)',
      labelNames: ['stage'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    for (const r of ['stale', 'superseded', 'bad_frame'] satisfies DropReason[]) this.dropped.inc({ reason: r }, 0);
    const queue = this.queue;
    new Gauge({
      name: 'lookout_detector_frames_waiting',
      help: 'Frames waiting for analysis (at most one per stream); a scaling signal',
      registers,
      collect() {
        this.set(queue.size);
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
    const superseded = this.queue.push(`${meta.room}.${meta.stream}`, { meta, data: msg.data, receivedMs: this.now() });
    if (superseded) this.dropped.inc({ reason: 'superseded' });
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    for (let frame = this.queue.shift(); frame; frame = this.queue.shift()) {
      await this.process(frame);
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
        key: `${meta.room}.${meta.stream}`,
        captureMs: meta.captureMs,
      });
      const body = encodeJson(facesMessage, {
        room: meta.room,
        stream: meta.stream,
        seq: meta.seq,
        captureMs: meta.captureMs,
        width: result.width,
        height: result.height,
        // Who published the frame (its WebRTC producer's or upload socket's peer) travels with its results.
        ...(meta.peer !== undefined ? { peer: meta.peer } : {}),
        faces: result.faces,
        ...(result.text ? { text: result.text } : {}),
        timings: { ...result.timings, queue: start - receivedMs },
        worker: this.opts.workerId,
      });
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

  /** Stops taking frames and waits for the one in progress. */
  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    this.queue.clear();
    await this.pumping;
  }
}
