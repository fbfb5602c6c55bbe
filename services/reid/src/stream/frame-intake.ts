import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { queueGroups, subjects, type FacesMessage } from '@lookout/contracts';
import { Counter, Gauge, LatestFrameQueue, type Logger, type Registry } from '@lookout/service-kit';

export type DropReason = 'stale' | 'superseded';

export interface FrameIntakeOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  /** Messages whose capture time is older than this when their turn comes are dropped. */
  maxFrameAgeMs: number;
  /** Messages handled at once (never two of one stream). */
  concurrency: number;
  /** Decodes and validates a message on receipt; undefined for a bad one (counted by the caller). */
  parse: (msg: Msg) => FacesMessage | undefined;
  handle: (faces: FacesMessage) => Promise<void>;
  now?: () => number;
}

/**
 * Consumes `faces.>` in the `reid` queue group and sheds load the way the detector does:
 * at most one waiting message per stream (a newer one supersedes it, keeping its place in
 * line), a message too old when its turn comes is dropped, and both are counted. Messages
 * are validated on receipt, as the detector validates frame headers, so every bad one is
 * counted as bad whether or not a newer one would have superseded it. A dropped message never reaches the stream state, so the state is what it would be had
 * the message never arrived (the tracker takes gaps in seq and capture time in its stride).
 */
export class FrameIntake {
  private sub: Subscription | undefined;
  private readonly queue = new LatestFrameQueue<FacesMessage>();
  /** Streams (subjects) with a message in hand: one at a time per stream, in order. */
  private readonly inHand = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly dropped: Counter<'reason'>;
  private readonly now: () => number;
  /** Waiting for no live message to wait (recording-job frames give way to live ones). */
  private idleWaiters = new Set<() => void>();

  constructor(private readonly o: FrameIntakeOptions) {
    this.now = o.now ?? Date.now;
    const registers = [o.metrics];
    this.dropped = new Counter({ name: 'lookout_reid_frames_dropped_total', help: 'Faces messages not handled, by reason (superseded by a newer one of the stream, stale)', labelNames: ['reason'], registers });
    for (const r of ['stale', 'superseded'] satisfies DropReason[]) this.dropped.inc({ reason: r }, 0);
    const queue = this.queue;
    new Gauge({
      name: 'lookout_reid_frames_waiting',
      help: 'Faces messages waiting (at most one per stream); a scaling signal',
      registers,
      collect() {
        this.set(queue.size);
      },
    });
  }

  start(): void {
    this.sub = this.o.nc.subscribe(subjects.all('faces'), {
      queue: queueGroups.reid,
      callback: (err, msg) => {
        if (err) return this.o.log.error({ err }, 'faces subscription error');
        this.accept(msg);
      },
    });
  }

  /** Live messages waiting for a slot (at most one per stream). */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Resolves once no live message waits, or after `maxMs` at the latest: a recording-job
   * frame waits here, so live streams go first yet jobs move on under steady live load.
   */
  whenIdle(maxMs: number): Promise<void> {
    if (this.queue.size === 0 || maxMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.idleWaiters.add(done);
    });
  }

  private wakeIfIdle(): void {
    if (this.queue.size > 0) return;
    for (const done of [...this.idleWaiters]) done();
  }

  /** Queues a valid message under its stream and starts it if a slot is free. */
  accept(msg: Msg): void {
    const faces = this.o.parse(msg);
    if (!faces) return;
    if (this.queue.push(subjects.faces(faces.room, faces.stream), faces)) this.dropped.inc({ reason: 'superseded' });
    this.pump();
  }

  private pump(): void {
    while (this.inHand.size < this.o.concurrency) {
      const faces = this.queue.shift((key) => !this.inHand.has(key));
      if (!faces) break;
      const key = subjects.faces(faces.room, faces.stream);
      this.inHand.add(key);
      const run: Promise<void> = this.run(faces).finally(() => {
        this.inHand.delete(key);
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
    this.wakeIfIdle();
  }

  private async run(faces: FacesMessage): Promise<void> {
    if (this.now() - faces.captureMs > this.o.maxFrameAgeMs) {
      this.dropped.inc({ reason: 'stale' });
      return;
    }
    try {
      await this.o.handle(faces);
    } catch (err) {
      this.o.log.error({ err, room: faces.room, stream: faces.stream, seq: faces.seq }, 'frame failed');
    }
  }

  /** Stops taking messages, sheds those waiting and waits for those in hand. */
  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    this.queue.clear();
    this.wakeIfIdle();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
